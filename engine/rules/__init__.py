"""Strategy files and the rules engine.

A strategy file (YAML) is loaded with line/column marks (`loader`), its `when` expressions are
parsed by our own parser (`lexer`, `parser`) and type-checked (`typecheck`), the whole strategy is
validated (`validate`, `analysis`, `routing`) and compiled (`compiler`) into one intermediate form
(`ir`) that feeds both evaluators: `numpy_eval` (whole portfolios) and `durable_eval`
(durable-rules, one invoice or customer at a time). `registry` holds the set in force and
reloads it atomically; `commands` backs `o2c strategies check|test`.
"""
