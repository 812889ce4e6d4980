"""Recursive-descent parser of `when` expressions. It builds a tree and runs nothing.

expr    := and ('or' and)*
and     := not ('and' not)*
not     := 'not' not | compare
compare := sum [('=='|'!='|'<'|'<='|'>'|'>=') sum | ['not'] 'in' '[' items ']']
sum     := product (('+'|'-') product)*
product := unary ('*' unary)*
unary   := '-' unary | atom
atom    := NUMBER [CURRENCY] | STRING | 'true' | 'false' | NAME | '(' expr ')'
items   := [item (',' item)*]      item := atom, where a bare word is a text value
"""

from __future__ import annotations

from engine.rules import nodes as n
from engine.rules.lexer import SyntaxProblem, Token, tokenize

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
# Parentheses, `not`, `-` and arithmetic terms nest the tree; every later pass walks it
# recursively, so a condition may nest this deep and no deeper (real ones nest a handful).
MAX_NESTING = 64


def parse(text: str) -> n.Node:
    """Parse `text` or raise SyntaxProblem (offset + message)."""
    if not text.strip():
        raise SyntaxProblem(0, "empty condition; write 'true' for a rule that always applies")
    return _Parser(tokenize(text)).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def deeper(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise SyntaxProblem(tok.offset, f"the condition nests deeper than {MAX_NESTING} levels; simplify it")

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def at(self, kind: str, text: str | None = None) -> bool:
        return self.tok.kind == kind and (text is None or self.tok.text == text)

    def expect_op(self, text: str, what: str) -> Token:
        if not self.at("OP", text):
            raise SyntaxProblem(self.tok.offset, f"expected '{text}' {what}, found {_describe(self.tok)}")
        return self.take()

    def parse(self) -> n.Node:
        node = self.expr()
        if not self.at("END"):
            raise SyntaxProblem(self.tok.offset, f"unexpected {_describe(self.tok)}; expected 'and', 'or' or the end")
        return node

    def expr(self) -> n.Node:
        return self._chain("or", self.and_)

    def and_(self) -> n.Node:
        return self._chain("and", self.not_)

    def _chain(self, word: str, sub: object) -> n.Node:
        parts = [sub()]  # type: ignore[operator]
        while self.at("KW", word):
            self.take()
            parts.append(sub())  # type: ignore[operator]
        return parts[0] if len(parts) == 1 else n.BoolOp(parts[0].offset, word, tuple(parts))

    def not_(self) -> n.Node:
        if self.at("KW", "not"):
            tok = self.take()
            self.deeper(tok)
            node = n.Not(tok.offset, self.not_())
            self.depth -= 1
            return node
        return self.compare()

    def compare(self) -> n.Node:
        left = self.sum()
        if self.tok.kind == "OP" and self.tok.text in COMPARISONS:
            op = self.take()
            right = self.sum()
            if self.tok.kind == "OP" and self.tok.text in COMPARISONS:
                raise SyntaxProblem(self.tok.offset, "comparisons cannot be chained; join them with 'and'")
            return n.Compare(op.offset, op.text, left, right)
        negated = False
        if self.at("KW", "not") and self.tokens[self.pos + 1].kind == "KW" and self.tokens[self.pos + 1].text == "in":
            self.take()
            negated = True
        if self.at("KW", "in"):
            tok = self.take()
            return n.InList(tok.offset, left, self.items(), negated)
        return left

    def items(self) -> tuple[n.Node, ...]:
        self.expect_op("[", "after 'in'")
        found: list[n.Node] = []
        while not self.at("OP", "]"):
            if self.tok.kind == "NAME":
                tok = self.take()
                found.append(n.StrLit(tok.offset, tok.text))
            else:
                found.append(self.unary())
            if not self.at("OP", "]"):
                self.expect_op(",", "between list items")
        self.take()
        return tuple(found)

    def sum(self) -> n.Node:
        depth = self.depth
        node = self.product()
        while self.tok.kind == "OP" and self.tok.text in ("+", "-"):
            op = self.take()
            self.deeper(op)  # a chain of terms is a left-deep tree
            node = n.Arith(op.offset, op.text, node, self.product())
        self.depth = depth
        return node

    def product(self) -> n.Node:
        depth = self.depth
        node = self.unary()
        while self.at("OP", "*"):
            op = self.take()
            self.deeper(op)
            node = n.Arith(op.offset, "*", node, self.unary())
        self.depth = depth
        return node

    def unary(self) -> n.Node:
        if self.at("OP", "-"):
            tok = self.take()
            self.deeper(tok)
            node = n.Neg(tok.offset, self.unary())
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> n.Node:
        tok = self.take()
        node: n.Node
        if tok.kind == "NUM":
            if self.tok.kind == "NAME" and self.tok.text.isalpha() and len(self.tok.text) == 3:
                node = n.MoneyLit(tok.offset, tok.text, self.take().text)
            elif "." in tok.text:
                raise SyntaxProblem(
                    tok.offset,
                    f"'{tok.text}' needs a currency (e.g. {tok.text} EUR); numbers with decimals exist only as money",
                )
            else:
                node = n.IntLit(tok.offset, int(tok.text))
        elif tok.kind == "STR":
            node = n.StrLit(tok.offset, tok.text[1:-1])
        elif tok.kind == "KW" and tok.text in ("true", "false"):
            node = n.BoolLit(tok.offset, tok.text == "true")
        elif tok.kind == "NAME":
            node = n.Name(tok.offset, tok.text)
        elif tok.kind == "OP" and tok.text == "(":
            if self.at("OP", ")"):
                raise SyntaxProblem(tok.offset, "empty parentheses '()' are not an expression")
            self.deeper(tok)
            node = self.expr()
            self.depth -= 1
            self.expect_op(")", "to close '('")
        else:
            raise SyntaxProblem(tok.offset, f"expected a value, a fact or '(', found {_describe(tok)}")
        if self.at("OP", "("):
            raise SyntaxProblem(self.tok.offset, "function calls are not allowed; the language has no functions")
        if self.at("OP", "["):
            raise SyntaxProblem(self.tok.offset, "indexing is not allowed")
        return node


def _describe(tok: Token) -> str:
    return "the end of the condition" if tok.kind == "END" else f"'{tok.text}'"
