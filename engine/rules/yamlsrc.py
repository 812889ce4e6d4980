"""YAML with a position for every node (PyYAML `compose` with the SafeLoader only)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import yaml

from engine.rules.errors import Loc, Problem, StrategyError


def unreadable(exc: yaml.YAMLError, text: str) -> tuple[int, int, str] | None:
    """(line, column, message) when PyYAML refused a character of `text` before reading any YAML:
    NUL and the other control characters YAML does not allow (tab, line breaks and printable text
    are fine). The message names the character, never quotes it."""
    if not isinstance(exc, yaml.reader.ReaderError) or not isinstance(exc.character, int):
        return None
    at = max(0, min(exc.position, len(text)))
    line, col = text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1
    kind = "the control character" if unicodedata.category(chr(exc.character)) == "Cc" else "the character"
    what = "a NUL (U+0000) character" if exc.character == 0 else f"{kind} U+{exc.character:04X}"
    return line, col, f"{what} is not allowed in YAML"


def compose(text: str, file: str) -> yaml.Node | None:
    """The node tree of `text`, or StrategyError with the syntax error's position."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:
        line, col, message = unreadable(exc, text) or (1, 1, f"YAML error: {exc}")
        raise StrategyError([Problem(Loc(file, line, col), message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise StrategyError([Problem(Loc(file, line, col), f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise StrategyError([Problem(Loc(file, 1, 1), f"YAML error: {exc}")]) from None
    except RecursionError:  # brackets nested thousands deep: no strategy is written that way
        raise StrategyError([Problem(Loc(file, 1, 1), "YAML nested too deeply")]) from None


def loc(node: yaml.Node, file: str) -> Loc:
    return Loc(file, node.start_mark.line + 1, node.start_mark.column + 1)


def locator(node: yaml.ScalarNode, text: str, file: str) -> Callable[[int], Loc]:
    """Map an offset in the scalar's value to its line and column in the file.

    The value is rebuilt from the source lines (indentation and folding removed) and matched
    character by character, ignoring whitespace; if that fails, every offset maps to the start.
    """
    base = loc(node, file)
    start, style = node.start_mark, node.style or ""
    segment = text[start.index : node.end_mark.index]
    line0, col0 = start.line, start.column
    if style in ('"', "'"):
        segment, col0 = segment[1:-1], col0 + 1
    lines = segment.split("\n")
    if style in ("|", ">"):
        lines, line0, col0 = lines[1:], line0 + 1, 0
    spots: list[tuple[str, int, int]] = []
    for k, source_line in enumerate(lines):
        first_col = col0 if k == 0 else 0
        for j, ch in enumerate(source_line):
            if not ch.isspace():
                spots.append((ch, line0 + k + 1, first_col + j + 1))
    visible = [ch for ch in node.value if not ch.isspace()]
    if [s[0] for s in spots] != visible:
        return lambda offset: base

    def find(offset: int) -> Loc:
        k = sum(1 for ch in node.value[:offset] if not ch.isspace())
        if k < len(spots):
            return Loc(file, spots[k][1], spots[k][2])
        return Loc(file, spots[-1][1], spots[-1][2] + 1) if spots else base

    return find
