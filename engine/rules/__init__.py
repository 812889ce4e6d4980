"""Strategy files and the rules engine.

`loader` reads a strategy file with a position for every node (`yamlsrc`, `yamlread`,
`rule_reader`, `expectations`); `when` expressions are tokenized (`lexer`), parsed (`parser`,
`nodes`) and type-checked (`typecheck`, over the fact vocabulary in `facts`) into the one
intermediate form (`ir`). `compiler` adds the engine's guards (`actions`, the state machines);
`validate` and `analysis` find rules that can never fire, impossible actions and routing gaps;
`directory` loads a whole directory. Both evaluators run the compiled form: `numpy_eval` (whole
portfolios) and `durable_eval` (durable-rules, one invoice or customer at a time). `decision`
explains every outcome; `registry` holds the set in force and reloads it atomically;
`embedded_tests` and `commands` back `o2c strategies check|test`.
"""
