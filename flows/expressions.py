"""条件式 (condition expressions): a small, safe expression language for flows.

Conditions in flow YAML (``next`` branches, outcomes) are parsed by this module's own
tokenizer and recursive-descent parser into a tiny AST and evaluated against the
collected slots. Nothing is ever passed to ``eval``.

Grammar::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand [("==" | "!=" | ">=" | "<=" | ">" | "<") operand]
                | operand ["not"] "in" "[" literal ("," literal)* "]"
    operand    := NAME | NUMBER | STRING | "true" | "false" | "(" expr ")"

Example:
    >>> cond = parse_condition("initial_cost >= 3000000 and not mandated_by_law")
    >>> sorted(cond.names())
    ['initial_cost', 'mandated_by_law']
    >>> cond.evaluate({"initial_cost": 4_500_000, "mandated_by_law": False})
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

Value = bool | int | float | str


class ConditionSyntaxError(ValueError):
    """The expression text cannot be parsed; ``str(err)`` is Japanese."""

    def __init__(self, detail: str, position: int, expression: str) -> None:
        self.detail = detail
        self.position = position
        self.expression = expression
        super().__init__(f"条件式「{expression}」の {position + 1} 文字目: {detail}")


class UndeterminedValueError(LookupError):
    """A condition needed a slot that has no value yet (not asked, or not on the path)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(name)


class ConditionTypeError(TypeError):
    """Values of the wrong type were compared (e.g. ``>=`` on a yes/no answer)."""


# --- tokens -----------------------------------------------------------------------------

_KEYWORDS = {"and", "or", "not", "in", "true", "false"}
_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?\d[\d_]*(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<string>"[^"]*"|'[^']*')
  | (?P<op>>=|<=|==|!=|>|<)
  | (?P<punct>[()\[\],])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # number | name | keyword | string | op | punct | end
    text: str
    position: int


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        match = _TOKEN_RE.match(expression, position)
        if match is None:
            char = expression[position]
            if expression.startswith(("=>", "=<"), position):
                typed = expression[position : position + 2]
                detail = f"「{typed}」ではなく「{typed[1]}=」と書いてください。"
            elif char == "=":
                detail = "比較には「=」ではなく「==」を使ってください。"
            elif char in "&|!":
                detail = f"「{char}」は使えません。and / or / not を使ってください。"
            elif char in "\"'":
                detail = "文字列の引用符が閉じていません。"
            else:
                detail = f"使えない文字「{char}」があります。"
            raise ConditionSyntaxError(detail, position, expression)
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "name" and text in _KEYWORDS:
            kind = "keyword"
        if kind != "space":
            tokens.append(_Token(kind, text, position))
        position = match.end()
    tokens.append(_Token("end", "", len(expression)))
    return tokens


# --- AST --------------------------------------------------------------------------------

Env = Mapping[str, object]


class Condition:
    """A parsed condition. Evaluate it with :meth:`evaluate`."""

    source: str = ""

    def evaluate(self, env: Env) -> bool:
        """Evaluate as a boolean.

        ``and``/``or`` short-circuit left to right, so a slot that was not asked
        (because an earlier part already decided) is never needed.

        Raises:
            UndeterminedValueError: A needed slot has no value.
            ConditionTypeError: Incompatible values were compared.
        """
        return bool(self._value(env))

    def names(self) -> set[str]:
        """Slot (or outcome) names the condition refers to."""
        return set(self._names())

    def _value(self, env: Env) -> object:  # pragma: no cover - abstract
        raise NotImplementedError

    def _names(self) -> Iterator[str]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class _Literal(Condition):
    value: Value

    def _value(self, env: Env) -> object:
        return self.value

    def _names(self) -> Iterator[str]:
        return iter(())


@dataclass(frozen=True)
class _Name(Condition):
    name: str

    def _value(self, env: Env) -> object:
        if self.name not in env or env[self.name] is None:
            raise UndeterminedValueError(self.name)
        return env[self.name]

    def _names(self) -> Iterator[str]:
        yield self.name


@dataclass(frozen=True)
class _Not(Condition):
    operand: Condition

    def _value(self, env: Env) -> object:
        return not self.operand._value(env)

    def _names(self) -> Iterator[str]:
        return self.operand._names()


@dataclass(frozen=True)
class _BoolOp(Condition):
    op: str  # "and" | "or"
    operands: tuple[Condition, ...]

    def _value(self, env: Env) -> object:
        for operand in self.operands:
            value = bool(operand._value(env))
            if self.op == "and" and not value:
                return False
            if self.op == "or" and value:
                return True
        return self.op == "and"

    def _names(self) -> Iterator[str]:
        for operand in self.operands:
            yield from operand._names()


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_ORDERINGS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}


@dataclass(frozen=True)
class _Compare(Condition):
    op: str
    left: Condition
    right: Condition

    def _value(self, env: Env) -> object:
        left = self.left._value(env)
        right = self.right._value(env)
        if self.op == "==":
            return _same(left, right)
        if self.op == "!=":
            return not _same(left, right)
        if not (_is_number(left) and _is_number(right)):
            raise ConditionTypeError(
                f"「{self.op}」は数値どうしでしか比較できません: {left!r}, {right!r}"
            )
        return _ORDERINGS[self.op](left, right)  # type: ignore[arg-type]

    def _names(self) -> Iterator[str]:
        yield from self.left._names()
        yield from self.right._names()


def _same(left: object, right: object) -> bool:
    # true == 1 must not hold: a yes/no slot is never equal to a number.
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return left == right


@dataclass(frozen=True)
class _In(Condition):
    operand: Condition
    values: tuple[Value, ...]
    negated: bool

    def _value(self, env: Env) -> object:
        value = self.operand._value(env)
        found = any(_same(value, candidate) for candidate in self.values)
        return not found if self.negated else found

    def _names(self) -> Iterator[str]:
        return self.operand._names()


# --- parser -----------------------------------------------------------------------------


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.index = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def _advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _error(self, detail: str, token: _Token | None = None) -> ConditionSyntaxError:
        return ConditionSyntaxError(detail, (token or self.token).position, self.expression)

    def _at_keyword(self, word: str) -> bool:
        return self.token.kind == "keyword" and self.token.text == word

    def parse(self) -> Condition:
        if self.token.kind == "end":
            raise self._error("条件式が空です。")
        node = self._or()
        if self.token.kind != "end":
            raise self._error(f"「{self.token.text}」の前に and / or が必要です。")
        return node

    def _or(self) -> Condition:
        operands = [self._and()]
        while self._at_keyword("or"):
            self._advance()
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else _BoolOp("or", tuple(operands))

    def _and(self) -> Condition:
        operands = [self._not()]
        while self._at_keyword("and"):
            self._advance()
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else _BoolOp("and", tuple(operands))

    def _not(self) -> Condition:
        if self._at_keyword("not"):
            self._advance()
            return _Not(self._not())
        return self._comparison()

    def _comparison(self) -> Condition:
        left = self._operand()
        if self.token.kind == "op":
            op = self._advance().text
            return _Compare(op, left, self._operand())
        if self._at_keyword("in"):
            self._advance()
            return _In(left, self._list(), negated=False)
        if self._at_keyword("not") and self.tokens[self.index + 1].text == "in":
            self._advance()
            self._advance()
            return _In(left, self._list(), negated=True)
        return left

    def _operand(self) -> Condition:
        token = self.token
        if token.kind == "punct" and token.text == "(":
            self._advance()
            node = self._or()
            if not (self.token.kind == "punct" and self.token.text == ")"):
                raise self._error("「(」に対応する「)」がありません。")
            self._advance()
            return node
        if token.kind == "name":
            self._advance()
            return _Name(token.text)
        if token.kind in ("number", "string") or (
            token.kind == "keyword" and token.text in ("true", "false")
        ):
            return _Literal(self._literal())
        if token.kind == "end":
            raise self._error("式が途中で終わっています（比較する値がありません）。")
        raise self._error(f"ここに「{token.text}」は書けません。スロット名か値が必要です。")

    def _literal(self) -> Value:
        token = self._advance()
        if token.kind == "number":
            text = token.text.replace("_", "")
            return float(text) if "." in text else int(text)
        if token.kind == "string":
            return token.text[1:-1]
        if token.kind == "keyword" and token.text in ("true", "false"):
            return token.text == "true"
        raise self._error(f"「{token.text}」は値ではありません。", token)

    def _list(self) -> tuple[Value, ...]:
        if not (self.token.kind == "punct" and self.token.text == "["):
            raise self._error("in の後には [値, 値, ...] の形のリストを書いてください。")
        self._advance()
        values = [self._literal()]
        while self.token.kind == "punct" and self.token.text == ",":
            self._advance()
            values.append(self._literal())
        if not (self.token.kind == "punct" and self.token.text == "]"):
            raise self._error("リストが「]」で閉じていません。")
        self._advance()
        return tuple(values)


def parse_condition(expression: str) -> Condition:
    """Parse a condition expression.

    Args:
        expression: The text, e.g. ``"initial_cost >= 3000000 and not mandated_by_law"``.

    Returns:
        The parsed condition; ``source`` holds the original text.

    Raises:
        ConditionSyntaxError: The text is not a valid expression (Japanese message).
    """
    node = _Parser(expression).parse()
    object.__setattr__(node, "source", expression)
    return node
