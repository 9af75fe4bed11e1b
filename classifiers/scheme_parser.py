"""Parser of the monitoring-scheme language: 地域词 AND 事件词 NOT 排除词.

Grammar (operators are case-insensitive; whitespace between terms means AND)::

    expr    := or
    or      := and (('OR' | '|' | '｜') and)*
    and     := unary (('AND' | '&' | '+' | <implicit>) unary)*
    unary   := ('NOT' | '-' | '!' | '！') unary | near
    near    := primary ('~' N primary)?              # "汉台" ~10 "爆炸"
    primary := WORD | "PHRASE" | '(' expr ')'
             | 'NEAR/' N '(' expr ',' expr ')'       # NEAR/10(汉台, 爆炸)

``a ~N b`` and ``NEAR/N(a, b)`` hold when an occurrence of ``a`` and one of ``b``
are at most N characters apart (the gap between them). Operands of a proximity
operator are words, phrases or OR-groups of them.

Pure: the parser builds a small AST; :mod:`classifiers.schemes` evaluates it
against the occurrences found by one Aho-Corasick pass.
"""
from __future__ import annotations

from dataclasses import dataclass

from classifiers.errors import ClassifierError

_OPEN = "(（"
_CLOSE = ")）"
_QUOTES = {'"': '"', "“": "”", "「": "」", "'": "'"}
_SINGLE = {"&": "AND", "+": "AND", "＋": "AND", "|": "OR", "｜": "OR", "-": "NOT", "!": "NOT",
           "！": "NOT", "~": "NEAR~", "～": "NEAR~", ",": "COMMA", "，": "COMMA"}
_KEYWORDS = {"AND", "OR", "NOT"}
_BREAK = set(_OPEN) | set(_CLOSE) | set(_QUOTES) | set(_SINGLE) | {" ", "\t", "\n", "\r", "\u3000"}


class SchemeError(ClassifierError):
    """A scheme file or definition is wrong (missing key, bad type, unknown template field)."""


class SchemeSyntaxError(SchemeError):
    """An expression does not parse; the message names the column and what was expected."""

    def __init__(self, message: str, *, column: int, expr: str, scheme: str | None = None):
        self.column = column  # 1-based
        self.expr = expr
        self.scheme = scheme
        self.reason = message
        where = f"scheme '{scheme}': " if scheme else ""
        pointer = f"\n  {expr}\n  {' ' * _display_width(expr[:column - 1])}^"
        super().__init__(f"{where}column {column}: {message}{pointer}")


#: The parser's reasons (by their opening words) as staff read them in the console.
_REASONS_ZH = (
    ("unterminated phrase", "引号没有闭合"),
    ("empty phrase", "引号中间没有内容"),
    ("expected a distance", "NEAR/ 或 ~ 后面应写相隔的字数，例如 NEAR/10"),
    ("expected 'NEAR/N(a, b)'", "应写成 NEAR/字数(词语, 词语)"),
    ("nested more than", "括号或 NOT 嵌套过深，请简化表达式"),
    ("empty expression", "表达式为空"),
    ("unbalanced ')'", "多了一个右括号"),
    ("expected AND, OR, NOT or the end", "此处应为 AND、OR、NOT 或表达式结束"),
    ("a proximity operand", "NEAR 两边应为词语、\"短语\"或用 OR 连接的一组词"),
    ("empty parentheses", "括号中没有内容"),
    ("expected ')' to close", "缺少右括号"),
    ("expected '(' after NEAR", "NEAR/字数 后面应为左括号"),
    ("expected ',' between", "NEAR/字数( ) 中的两项之间应有逗号"),
    ("unexpected end", "表达式不完整"),
    ("expected a word", "此处应为词语、\"短语\"或左括号"),
)


def explain_zh(exc: "SchemeError") -> str:
    """A scheme error in Chinese for staff: where (column) and what is wrong."""
    reason = getattr(exc, "reason", None)
    if reason is None:
        return f"方案定义有误：{exc}"
    what = next((zh for en, zh in _REASONS_ZH if reason.startswith(en)), "语法错误")
    return f"第 {exc.column} 个字符处：{what}"


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


# --- AST -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class Not:
    child: object


@dataclass(frozen=True)
class And:
    children: tuple


@dataclass(frozen=True)
class Or:
    children: tuple


@dataclass(frozen=True)
class Near:
    left: tuple[str, ...]  # alternative words
    right: tuple[str, ...]
    distance: int


def words_of(node) -> list[str]:
    """Every word of the expression, in order of appearance."""
    if isinstance(node, Word):
        return [node.text]
    if isinstance(node, Not):
        return words_of(node.child)
    if isinstance(node, (And, Or)):
        out: list[str] = []
        for child in node.children:
            out.extend(words_of(child))
        return out
    if isinstance(node, Near):
        return [*node.left, *node.right]
    raise TypeError(node)  # pragma: no cover


# --- tokenizer -----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Tok:
    kind: str  # WORD PHRASE AND OR NOT NEAR~ NEAR/ LPAREN RPAREN COMMA NUMBER END
    text: str
    col: int  # 1-based column of the first character


def tokenize(expr: str, scheme: str | None = None) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch in _BREAK and ch not in _OPEN and ch not in _CLOSE and ch not in _QUOTES and ch not in _SINGLE:
            i += 1
            continue
        if ch in _OPEN:
            toks.append(_Tok("LPAREN", ch, i + 1))
            i += 1
        elif ch in _CLOSE:
            toks.append(_Tok("RPAREN", ch, i + 1))
            i += 1
        elif ch in _QUOTES:
            close = _QUOTES[ch]
            j = expr.find(close, i + 1)
            if j < 0:
                raise SchemeSyntaxError(f"unterminated phrase: expected a closing {close}",
                                        column=i + 1, expr=expr, scheme=scheme)
            phrase = expr[i + 1:j]
            if not phrase.strip():
                raise SchemeSyntaxError("empty phrase: expected some text between the quotes",
                                        column=i + 1, expr=expr, scheme=scheme)
            toks.append(_Tok("PHRASE", phrase, i + 1))
            i = j + 1
        elif ch in _SINGLE:
            kind = _SINGLE[ch]
            if kind == "NEAR~":
                j = i + 1
                while j < n and expr[j] == " ":
                    j += 1
                k = j
                while k < n and expr[k].isdigit():
                    k += 1
                if k == j:
                    raise SchemeSyntaxError("expected a distance in characters after '~' (e.g. ~10)",
                                            column=j + 1, expr=expr, scheme=scheme)
                toks.append(_Tok("NEAR~", expr[j:k], i + 1))
                i = k
                continue
            toks.append(_Tok(kind, ch, i + 1))
            i += 1
        else:
            j = i
            while j < n and expr[j] not in _BREAK:
                j += 1
            word = expr[i:j]
            upper = word.upper()
            if upper in _KEYWORDS:
                toks.append(_Tok(upper, word, i + 1))
            elif upper.startswith("NEAR/"):
                digits = word[5:]
                if not digits.isdigit():
                    raise SchemeSyntaxError("expected a distance in characters after 'NEAR/' (e.g. NEAR/10)",
                                            column=i + 6, expr=expr, scheme=scheme)
                toks.append(_Tok("NEAR/", digits, i + 1))
            elif upper == "NEAR":
                raise SchemeSyntaxError("expected 'NEAR/N(a, b)' with a distance N in characters",
                                        column=i + 1, expr=expr, scheme=scheme)
            else:
                toks.append(_Tok("WORD", word, i + 1))
            i = j
    toks.append(_Tok("END", "", n + 1))
    return toks


#: The operator words written as the symbols the language also takes (for staff who read no English).
_SYMBOLS = {"AND": "+", "OR": "|", "NOT": "-"}


def symbolic(expr: str) -> str:
    """``expr`` with the operator words AND / OR / NOT written as + | - (the same expression: the
    parser reads both). Phrases and words are kept as written; an expression that does not parse
    is returned unchanged."""
    try:
        parse(expr)
    except SchemeSyntaxError:
        return expr
    toks = tokenize(expr)
    out = expr
    for tok in reversed(toks):
        if tok.kind in _SYMBOLS and tok.text.upper() == tok.kind:
            start = tok.col - 1
            out = out[:start] + _SYMBOLS[tok.kind] + out[start + len(tok.text):]
    return out


# --- parser --------------------------------------------------------------------------------

_DESCRIBE = {"END": "the end of the expression", "RPAREN": "')'", "LPAREN": "'('", "AND": "AND",
             "OR": "OR", "NOT": "NOT", "COMMA": "','", "NEAR~": "'~'", "NEAR/": "NEAR/"}
_STARTS_TERM = {"WORD", "PHRASE", "LPAREN", "NOT", "NEAR/"}


#: Deepest nesting of parentheses, NOT and NEAR/N( accepted: far beyond any real scheme, and
#: well inside Python's recursion limit for parsing and evaluating.
MAX_DEPTH = 32


class _Parser:
    def __init__(self, expr: str, scheme: str | None):
        self.expr = expr
        self.scheme = scheme
        self.toks = tokenize(expr, scheme)
        self.pos = 0
        self.depth = 0

    def deeper(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"nested more than {MAX_DEPTH} deep (parentheses, NOT, NEAR/N): simplify the expression", tok)

    def peek(self) -> _Tok:
        return self.toks[self.pos]

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def fail(self, message: str, tok: _Tok):
        raise SchemeSyntaxError(message, column=tok.col, expr=self.expr, scheme=self.scheme)

    def describe(self, tok: _Tok) -> str:
        if tok.kind in ("WORD", "PHRASE"):
            return f"'{tok.text}'"
        return _DESCRIBE.get(tok.kind, tok.text)

    def parse(self):
        if self.peek().kind == "END":
            self.fail("empty expression: expected a word, a \"phrase\" or '('", self.peek())
        node = self.parse_or()
        tok = self.peek()
        if tok.kind == "RPAREN":
            self.fail("unbalanced ')': no '(' to close", tok)
        if tok.kind != "END":
            self.fail(f"expected AND, OR, NOT or the end of the expression, found {self.describe(tok)}", tok)
        return node

    def parse_or(self):
        parts = [self.parse_and()]
        while self.peek().kind == "OR":
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self):
        parts = [self.parse_unary()]
        while True:
            tok = self.peek()
            if tok.kind == "AND":
                self.take()
                parts.append(self.parse_unary())
            elif tok.kind in _STARTS_TERM:  # implicit AND, also "a NOT b"
                parts.append(self.parse_unary())
            else:
                break
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_unary(self):
        tok = self.peek()
        if tok.kind == "NOT":
            self.take()
            self.deeper(tok)
            node = Not(self.parse_unary())
            self.depth -= 1
            return node
        return self.parse_near()

    def parse_near(self):
        left_tok = self.peek()
        left = self.parse_primary()
        if self.peek().kind == "NEAR~":
            op = self.take()
            right_tok = self.peek()
            right = self.parse_primary()
            return Near(self._near_operand(left, left_tok), self._near_operand(right, right_tok), int(op.text))
        return left

    def _near_operand(self, node, tok: _Tok) -> tuple[str, ...]:
        if isinstance(node, Word):
            return (node.text,)
        if isinstance(node, Or) and all(isinstance(c, Word) for c in node.children):
            return tuple(c.text for c in node.children)
        self.fail("a proximity operand must be a word, a \"phrase\" or an OR-group of words", tok)

    def parse_primary(self):
        tok = self.take()
        if tok.kind in ("WORD", "PHRASE"):
            return Word(tok.text)
        if tok.kind == "LPAREN":
            if self.peek().kind == "RPAREN":
                self.fail("empty parentheses: expected a word, a \"phrase\" or '('", self.peek())
            self.deeper(tok)
            node = self.parse_or()
            self.depth -= 1
            close = self.peek()
            if close.kind != "RPAREN":
                self.fail(f"expected ')' to close the '(' at column {tok.col}, found {self.describe(close)}",
                          close)
            self.take()
            return node
        if tok.kind == "NEAR/":
            distance = int(tok.text)
            if self.peek().kind != "LPAREN":
                self.fail(f"expected '(' after NEAR/{distance}, found {self.describe(self.peek())}", self.peek())
            self.take()
            self.deeper(tok)
            left_tok = self.peek()
            left = self._near_operand(self.parse_or(), left_tok)
            if self.peek().kind != "COMMA":
                self.fail(f"expected ',' between the two operands of NEAR/{distance}, found "
                          f"{self.describe(self.peek())}", self.peek())
            self.take()
            right_tok = self.peek()
            right = self._near_operand(self.parse_or(), right_tok)
            if self.peek().kind != "RPAREN":
                self.fail(f"expected ')' to close NEAR/{distance}(, found {self.describe(self.peek())}",
                          self.peek())
            self.take()
            self.depth -= 1
            return Near(left, right, distance)
        if tok.kind == "END":
            self.fail("unexpected end: expected a word, a \"phrase\" or '('", tok)
        self.fail(f"expected a word, a \"phrase\" or '(', found {self.describe(tok)}", tok)


def parse(expr: str, scheme: str | None = None):
    """Parse ``expr`` into an AST; raise :class:`SchemeSyntaxError` naming the column."""
    if not isinstance(expr, str):
        raise SchemeError(f"scheme '{scheme}': expr must be a string, got {type(expr).__name__}")
    return _Parser(expr, scheme).parse()
