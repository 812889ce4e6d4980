"""Located problems: every message a policy owner sees reads `FILE:LINE:COL: message`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Loc:
    """A 1-based position in a strategy file."""

    file: str
    line: int
    col: int

    def shifted(self, columns: int) -> Loc:
        return Loc(self.file, self.line, self.col + columns)


@dataclass(frozen=True, order=True)
class Problem:
    loc: Loc
    message: str

    def __str__(self) -> str:
        return f"{self.loc.file}:{self.loc.line}:{self.loc.col}: {self.message}"


class StrategyError(Exception):
    """One or more problems; raised so that nothing invalid is ever used (fail closed)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class EvaluationError(Exception):
    """Facts that cannot be evaluated (missing, wrong type, out of range) or an engine failure."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
