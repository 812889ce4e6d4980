"""Tokenizer of the `when` expression language. Offsets are 0-based into the expression text."""

from __future__ import annotations

import re
from dataclasses import dataclass


class SyntaxProblem(Exception):
    """A problem at an offset of the expression text (the caller adds file, line and column)."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset = offset
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str  # NUM, NAME, STR, OP, KW, END
    text: str
    offset: int


KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})
OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "(", ")", "[", "]", ",")

_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?![\w.])")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_STRING = re.compile(r'"([^"\\\n]*)"|\'([^\'\\\n]*)\'')

_REFUSED = {
    "=": "use '==' to compare",
    ".": "attribute access is not allowed; only the declared fact names may be used",
    "/": "division is not supported; compare with multiplication instead (a * 2 > b)",
    "%": "'%' is not supported",
    "&": "use 'and'",
    "|": "use 'or'",
    "!": "use 'not' or '!='",
    "{": "'{' is not allowed in an expression",
    ";": "';' is not allowed in an expression",
    "\\": "'\\' is not allowed in an expression",
    "@": "'@' is not allowed in an expression",
    "`": "'`' is not allowed in an expression",
}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        space = _SPACE.match(text, pos)
        if space:
            pos = space.end()
            continue
        tok = _next(text, pos)
        tokens.append(tok)
        pos += len(tok.text)
    tokens.append(Token("END", "", len(text)))
    return tokens


def _next(text: str, pos: int) -> Token:
    for op in OPERATORS:
        if text.startswith(op, pos):
            return Token("OP", op, pos)
    m = _NUMBER.match(text, pos)
    if m:
        return Token("NUM", m.group(), pos)
    if text[pos].isdigit():
        raise SyntaxProblem(pos, "malformed number; write whole numbers (30) or amounts (50.00 EUR)")
    m = _NAME.match(text, pos)
    if m:
        word = m.group()
        if word.startswith("_") or "._" in word:
            raise SyntaxProblem(pos, f"'{word}' is not allowed: names starting with '_' are never facts")
        if text.startswith(".", m.end()):
            raise SyntaxProblem(m.end(), _REFUSED["."])
        return Token("KW" if word in KEYWORDS else "NAME", word, pos)
    m = _STRING.match(text, pos)
    if m:
        return Token("STR", m.group(), pos)
    if text[pos] in "\"'":
        raise SyntaxProblem(pos, "unterminated string; close it with the same quote")
    why = _REFUSED.get(text[pos], f"unexpected character '{text[pos]}'")
    raise SyntaxProblem(pos, why)
