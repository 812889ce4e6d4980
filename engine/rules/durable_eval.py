"""The durable-rules evaluator: one invoice (or customer) at a time, as a pure decision function.

The ONLY module that imports `durable`. It follows LIBRARIES.md ("durable-rules") to the letter:

* one host per process (`engine()`), and no background dispatch threads (we use no timers and no
  queued messages; the dispatcher would otherwise run actions outside our lock);
* rulesets registered as JSON through `Host.set_rulesets`, named `o2c.<name>.v<version>.<hash16>.<scope>`
  (registered rulesets can never be replaced, so a changed file gets a new name);
* no sid per customer or invoice: every evaluation asserts one fact on a fresh sid and deletes that
  state right after; identity lives in our database, never in the engine;
* a unique id in every fact (identical facts would be rejected as already observed);
* every fact validated and cast (ints as ints, booleans as booleans, enum values as known text)
  before posting, so durable's text comparison of mixed types never happens;
* calls serialized by one lock; single-fact patterns only (no joins);
* every ruleset ends with a catch-all rule (`_seen`) that matches every fact: deleting the state of
  a sid whose fact matched nothing crashed the process (measured: SIGSEGV on the first
  `delete_state`), and never deleting it leaks one state per evaluation until MemoryError at
  1,024 sids. The catch-all also proves the engine evaluated the fact: if it did not fire, or
  `MessageNotHandledException` / `MessageObservedException` is raised, the call fails;
* an exception swallowed into the state (`exception`) is detected after the post and raised.

durable-rules may fire several rules for one fact: all matches are collected and the hit policy
(first match per track, in file order) is applied here, exactly as in `numpy_eval`.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from durable import engine as durable_engine

from engine.rules import ir
from engine.rules.compiler import CompiledRule, CompiledStrategy
from engine.rules.decision import Decision, decide
from engine.rules.errors import EvaluationError
from engine.rules.facts import FACTS, MAX_MAGNITUDE, Kind
from engine.rules.strategy import FactValue
from states.money import Money

_OPS = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_ARITH = {"+": "$add", "-": "$sub", "*": "$mul"}
SEEN = "_seen"  # the catch-all rule of every ruleset


def field(name: str) -> str:
    """The event field of a fact: dots would read as nesting, so `account.x` is `account__x`."""
    return name.replace(".", "__")


def term_json(term: ir.Term) -> Any:
    if isinstance(term, ir.FactRef):
        return {"$m": field(term.name)}
    if isinstance(term, ir.Value):
        return term.value
    return {_ARITH[term.op]: {"$l": term_json(term.left), "$r": term_json(term.right)}}


def cond_json(cond: ir.Cond) -> dict[str, Any]:
    if isinstance(cond, ir.Const):
        return {"_one": 1 if cond.value else 0}
    if isinstance(cond, ir.And):
        return {"$and": [cond_json(p) for p in cond.parts]}
    if isinstance(cond, ir.Or):
        return {"$or": [cond_json(p) for p in cond.parts]}
    op, left, right = cond.op, cond.left, cond.right
    if not isinstance(left, ir.FactRef) and isinstance(right, ir.FactRef):
        op, left, right = ir.FLIP[op], right, left
    if isinstance(left, ir.FactRef):
        key, rhs = field(left.name), term_json(right)
    else:  # neither side is a plain fact:  l op r  <=>  0 op (r - l)
        key, rhs = "_zero", term_json(ir.Calc("-", right, left))
    return {key: rhs} if op == "==" else {_OPS[op]: {key: rhs}}


def ruleset_json(compiled: CompiledStrategy, scope: str, name: str) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    for index, rule in enumerate(compiled.rules):
        if rule.scope == scope:
            rules[f"r{index}"] = {"all": [{"m": cond_json(rule.cond)}], "run": f"{name}#{index}"}
    rules[SEEN] = {"all": [{"m": {"_one": 1}}], "run": f"{name}#{SEEN}"}
    return rules


def cast_facts(names: list[str], facts: Mapping[str, Any]) -> dict[str, FactValue]:
    """Validate and cast every fact the evaluation needs; refuse anything doubtful."""
    cast: dict[str, FactValue] = {}
    currency = facts.get("currency")
    for name in names:
        if name not in facts:
            raise EvaluationError(f"missing fact '{name}'")
        cast[name] = _cast(name, facts[name], currency)
    return cast


def _cast(name: str, value: Any, currency: Any) -> FactValue:
    fact = FACTS[name]
    if fact.kind is Kind.BOOL:
        if isinstance(value, bool | np.bool_):
            return bool(value)
        raise EvaluationError(f"fact '{name}' must be true or false, not {value!r}")
    if fact.kind is Kind.ENUM:
        if isinstance(value, int | np.integer) and not isinstance(value, bool) and 0 <= value < len(fact.values):
            return fact.values[int(value)]
        if isinstance(value, str) and value in fact.values:
            return str(value)
        raise EvaluationError(f"fact '{name}' has the unknown value {value!r}")
    if isinstance(value, Money) and fact.kind is Kind.MONEY:
        if currency is not None and value.currency != str(currency):
            raise EvaluationError(f"fact '{name}' is in {value.currency}, the evaluation in {currency}")
        value = value.minor
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise EvaluationError(f"fact '{name}' must be a whole number{' of minor units' * (fact.kind is Kind.MONEY)}")
    if not -MAX_MAGNITUDE <= int(value) <= MAX_MAGNITUDE:
        raise EvaluationError(f"fact '{name}' is beyond ±{MAX_MAGNITUDE}")
    return int(value)


class _Host(durable_engine.Host):
    def __init__(self, record: Callable[[str, str], None]) -> None:
        self._record = record
        super().__init__()

    def _run(self) -> None:
        """No dispatch/timer threads: nothing here uses timers or queued messages."""

    def get_action(self, action_name: str) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            self._record(action_name, str(c.m["id"]))

        return action


class DurableEvaluator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fired: list[tuple[str, str]] = []
        self._host = _Host(lambda action, event_id: self._fired.append((action, event_id)))
        self._registered: set[str] = set()
        self._ids = itertools.count(1)

    def register(self, compiled: CompiledStrategy) -> None:
        """Register the strategy's rulesets (once per content hash; idempotent)."""
        with self._lock:
            self._register(compiled)

    def _register(self, compiled: CompiledStrategy) -> None:
        for scope in ("invoice", "account"):
            name = f"{compiled.label}.{scope}"
            if compiled.scoped(scope) and name not in self._registered:
                definition = ruleset_json(compiled, scope, name)
                self._host.set_rulesets(json.loads(json.dumps({name: definition})))
                self._registered.add(name)

    def matches(self, compiled: CompiledStrategy, facts: Mapping[str, Any], scope: str = "invoice") -> list[int]:
        """Indexes (into `compiled.rules`) of every rule durable-rules fired for these facts."""
        if not compiled.scoped(scope):
            return []
        return self._matches(compiled, cast_facts(compiled.facts(scope), facts), scope)

    def _matches(self, compiled: CompiledStrategy, cast: dict[str, FactValue], scope: str) -> list[int]:
        name = f"{compiled.label}.{scope}"
        with self._lock:
            self._register(compiled)
            number = next(self._ids)
            sid, event_id = f"s{number}", f"{name}:{number}"
            message: dict[str, Any] = {"sid": sid, "id": event_id, "_one": 1, "_zero": 0}
            message.update({field(k): v for k, v in cast.items()})
            self._fired = []
            try:
                self._post(name, message)
                state = self._host.get_state(name, sid)
            finally:
                self._host.delete_state(name, sid)
            fired = list(self._fired)
        if "exception" in state:
            raise EvaluationError(f"a rule action failed inside durable-rules: {state['exception']}")
        if any(eid != event_id or not action.startswith(f"{name}#") for action, eid in fired):
            raise EvaluationError("durable-rules fired an action for another event")
        tags = {action.rsplit("#", 1)[1] for action, _ in fired}
        if SEEN not in tags:
            raise EvaluationError("durable-rules did not evaluate the facts (the catch-all rule did not fire)")
        return sorted(int(tag) for tag in tags - {SEEN})

    def _post(self, name: str, message: dict[str, Any]) -> None:
        try:
            self._host.assert_fact(name, message)
        except durable_engine.MessageNotHandledException as exc:
            raise EvaluationError("durable-rules handled no rule, not even the catch-all") from exc
        except durable_engine.MessageObservedException as exc:
            raise EvaluationError(f"durable-rules had already seen event {message['id']}") from exc

    def evaluate(self, compiled: CompiledStrategy, facts: Mapping[str, Any], scope: str = "invoice") -> list[Decision]:
        """Decide for one invoice (scope "invoice") or one customer (scope "account")."""
        if not compiled.scoped(scope):
            return []
        cast = cast_facts(compiled.facts(scope), facts)
        matched = self._matches(compiled, cast, scope)
        winners: dict[str, CompiledRule] = {}
        for index in matched:  # ascending file order: the first match of each track wins
            rule = compiled.rules[index]
            winners.setdefault(rule.track, rule)
        return decide(compiled, scope, winners, cast, "durable-rules")


_ENGINE: DurableEvaluator | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> DurableEvaluator:
    """The one durable-rules host of this process."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = DurableEvaluator()
        return _ENGINE
