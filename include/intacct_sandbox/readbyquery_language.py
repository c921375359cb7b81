"""Parser for the legacy ``readByQuery`` query string (DEV:/web-services/queries/).

Grammar (keywords case-insensitive)::

    expr    := term (OR term)*
    term    := factor (AND factor)*
    factor  := NOT factor | '(' expr ')' | cond
    cond    := FIELD op literal | FIELD [NOT] LIKE literal | FIELD [NOT] IN '(' literal, … ')'
             | FIELD IS [NOT] NULL
    op      := = | != | <> | < | > | <= | >=

Literals are single- or double-quoted (backslash escapes a quote) or bare numbers. ``rownum``
terms (``rownum < 5``) are accepted at the top level and become a row limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .conditions import And, Compare, InList, IsNull, Like, Node, Not, Or, QueryError

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<num>-?\d+(?:\.\d+)?)
    )""",
    re.VERBOSE,
)


@dataclass
class Token:
    kind: str
    text: str


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise QueryError(f"Unable to parse query near: {text[pos:pos + 20]}")
        kind = match.lastgroup or ""
        raw = match.group(kind)
        if kind == "str":
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        tokens.append(Token(kind, raw))
        pos = match.end()
    return tokens


@dataclass
class ParsedQuery:
    condition: Node | None
    rownum_limit: int | None = None


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek_word(self, *words: str) -> bool:
        tok = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        return tok is not None and tok.kind == "word" and tok.text.upper() in words

    def take(self, kind: str | None = None, text: str | None = None) -> Token:
        if self.pos >= len(self.tokens):
            raise QueryError("Unexpected end of query")
        tok = self.tokens[self.pos]
        if kind and tok.kind != kind or text and tok.text.upper() != text:
            raise QueryError(f"Unexpected token {tok.text!r}")
        self.pos += 1
        return tok

    def literal(self) -> str:
        tok = self.take()
        if tok.kind not in ("str", "num", "word"):
            raise QueryError(f"Expected a value, got {tok.text!r}")
        return tok.text

    def expr(self) -> Node:
        parts = [self.term()]
        while self.peek_word("OR"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Or(parts)

    def term(self) -> Node:
        parts = [self.factor()]
        while self.peek_word("AND"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else And(parts)

    def factor(self) -> Node:
        if self.peek_word("NOT"):
            self.take()
            return Not(self.factor())
        tok = self.tokens[self.pos] if self.pos < len(self.tokens) else None
        if tok is not None and tok.kind == "punct" and tok.text == "(":
            self.take()
            node = self.expr()
            self.take("punct", ")")
            return node
        return self.condition()

    def condition(self) -> Node:
        field = self.take("word").text.upper()
        if self.peek_word("IS"):
            self.take()
            negate = False
            if self.peek_word("NOT"):
                self.take()
                negate = True
            self.take("word", "NULL")
            return IsNull(field, negate)
        negate = False
        if self.peek_word("NOT"):
            self.take()
            negate = True
        if self.peek_word("LIKE"):
            self.take()
            return Like(field, self.literal(), negate)
        if self.peek_word("IN"):
            self.take()
            self.take("punct", "(")
            values = [self.literal()]
            while self.tokens[self.pos].text == ",":
                self.take()
                values.append(self.literal())
            self.take("punct", ")")
            return InList(field, values, negate)
        if negate:
            raise QueryError("NOT must precede LIKE or IN here")
        op = self.take("op").text
        return Compare(field, "!=" if op == "<>" else op, self.literal())


def parse_readbyquery(text: str | None) -> ParsedQuery:
    """Parse a query string; an empty string means every record."""
    if text is None or not text.strip():
        return ParsedQuery(None)
    parser = _Parser(tokenize(text))
    node = parser.expr()
    if parser.pos != len(parser.tokens):
        raise QueryError(f"Unexpected token {parser.tokens[parser.pos].text!r}")
    return _extract_rownum(node)


def _extract_rownum(node: Node) -> ParsedQuery:
    terms = node.children if isinstance(node, And) else [node]
    limit: int | None = None
    kept: list[Node] = []
    for term in terms:
        if isinstance(term, Compare) and term.field == "ROWNUM":
            n = int(float(term.value))
            bound = {"<": n - 1, "<=": n, "=": n if n == 1 else 0}.get(term.op)
            if bound is None:
                raise QueryError("Unsupported rownum condition")
            limit = bound if limit is None else min(limit, bound)
        else:
            kept.append(term)
    if not kept:
        return ParsedQuery(None, limit)
    return ParsedQuery(kept[0] if len(kept) == 1 else And(kept), limit)
