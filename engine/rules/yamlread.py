"""Reading typed values out of YAML nodes while collecting located problems (never stopping early)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml

from engine.rules.errors import Loc, Problem, did_you_mean
from engine.rules.yamlsrc import loc

Entry = tuple[yaml.Node, yaml.Node]  # (key node, value node)
_INT = re.compile(r"^[+-]?\d+$")
_TRUE, _FALSE = {"true", "yes", "on"}, {"false", "no", "off"}


class Reader:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.problems: list[Problem] = []

    def at(self, node: yaml.Node) -> Loc:
        return loc(node, self.file)

    def fail(self, where: yaml.Node | Loc, message: str) -> None:
        self.problems.append(Problem(where if isinstance(where, Loc) else self.at(where), message))

    def mapping(
        self, node: yaml.Node, what: str, required: Sequence[str], optional: Sequence[str] = ()
    ) -> dict[str, Entry] | None:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping (key: value lines)")
            return None
        found: dict[str, Entry] = {}
        known = (*required, *optional)
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else ""
            if name in found:
                self.fail(key, f"duplicate key '{name}' in {what}")
            elif name not in known:
                self.fail(key, f"unknown key '{name}' in {what}{did_you_mean(name, known)}")
            else:
                found[name] = (key, value)
        for name in required:
            if name not in found:
                self.fail(node, f"missing '{name}' in {what}")
        return found

    def scalar(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode):
            self.fail(node, f"{what} must be a single value, not a list or mapping")
            return None
        return str(node.value)

    def name(self, node: yaml.Node, what: str, pattern: str) -> str | None:
        value = self.scalar(node, what)
        if value is not None and not re.fullmatch(pattern, value):
            self.fail(node, f"{what} '{value}' must match {pattern} (lower case letters, digits, '-', '_')")
            return None
        return value

    def integer(self, node: yaml.Node, what: str, lo: int, hi: int) -> int | None:
        value = self.scalar(node, what)
        if value is None:
            return None
        if not _INT.match(value) or (isinstance(node, yaml.ScalarNode) and node.style):
            self.fail(node, f"{what} must be a whole number, not '{value}'")
            return None
        number = int(value)
        if not lo <= number <= hi:
            self.fail(node, f"{what} must be between {lo} and {hi}, not {number}")
            return None
        return number

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        value = self.scalar(node, what)
        if value is not None and value.lower() in _TRUE | _FALSE and not getattr(node, "style", None):
            return value.lower() in _TRUE
        if value is not None:
            self.fail(node, f"{what} must be true or false, not '{value}'")
        return None

    def choice(self, node: yaml.Node, what: str, choices: Sequence[str]) -> str | None:
        value = self.scalar(node, what)
        if value is not None and value not in choices:
            hint = did_you_mean(value, choices) or f"; choose one of {', '.join(choices)}"
            self.fail(node, f"unknown {what} '{value}'{hint}")
            return None
        return value

    def seq(self, node: yaml.Node, what: str, allow_scalar: bool = False) -> list[yaml.Node] | None:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if allow_scalar and isinstance(node, yaml.ScalarNode):
            return [node]
        self.fail(node, f"{what} must be a list ([a, b] or '- ' lines)")
        return None

    def choices(self, node: yaml.Node, what: str, choices: Sequence[str]) -> tuple[str, ...]:
        items = self.seq(node, what, allow_scalar=True)
        if items is None:
            return ()
        if not items:
            self.fail(node, f"{what} must not be empty")
        picked: list[str] = []
        for item in items:
            value = self.choice(item, what, choices)
            if value is not None and value in picked:
                self.fail(item, f"'{value}' is listed twice in {what}")
            elif value is not None:
                picked.append(value)
        return tuple(picked)
