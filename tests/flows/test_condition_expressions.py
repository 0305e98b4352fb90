"""The condition language: parsing, evaluation, and what it refuses."""

from __future__ import annotations

import pytest

from flows.expressions import (
    ConditionSyntaxError,
    ConditionTypeError,
    UndeterminedValueError,
    parse_condition,
)

ENV = {"cost": 4_500_000, "law": False, "system": True, "method": "bid", "note": ""}

CASES = [
    ("cost >= 3000000", True),
    ("cost >= 3_000_000 and not law", True),
    ("cost < 3000000 or system", True),
    ("not (law or system)", False),
    ("cost == 4500000", True),
    ("cost != 4500000", False),
    ("law == false", True),
    ("system == true", True),
    ("system == 1", False),  # a yes/no answer is never equal to a number
    ("method == 'bid'", True),
    ('method in ["proposal", "bid"]', True),
    ('method not in ["proposal", "bid"]', False),
    ("note", False),  # an empty optional text is false
    ("true", True),
    ("not not system", True),
    ("cost > 1.5", True),
]


@pytest.mark.parametrize(("expression", "expected"), CASES)
def test_evaluates(expression: str, expected: bool) -> None:
    assert parse_condition(expression).evaluate(ENV) is expected


def test_short_circuit_never_needs_an_unasked_slot() -> None:
    condition = parse_condition("cost >= 3000000 and not mandated and not existing")
    assert condition.evaluate({"cost": 2_999_999}) is False
    with pytest.raises(UndeterminedValueError) as err:
        condition.evaluate({"cost": 3_000_000})
    assert err.value.name == "mandated"


def test_ordering_needs_numbers() -> None:
    with pytest.raises(ConditionTypeError):
        parse_condition("law >= 1").evaluate(ENV)


def test_names_lists_every_slot() -> None:
    condition = parse_condition("(a or b) and c >= 1 and d in [1, 2]")
    assert condition.names() == {"a", "b", "c", "d"}
    assert condition.source == "(a or b) and c >= 1 and d in [1, 2]"


@pytest.mark.parametrize(
    ("expression", "position", "detail"),
    [
        ("cost =< 3", 6, "「<=」と書いてください"),
        ("cost = 3", 6, "「==」を使ってください"),
        ("a || b", 3, "and / or / not"),
        ("a >= ", 6, "途中で終わって"),
        ("(a", 3, "「)」がありません"),
        ("a b", 3, "and / or が必要"),
        ("a in [1, 2", 11, "「]」で閉じていません"),
        ("__import__('os')", 11, "and / or が必要"),
        ("a + 1", 3, "使えない文字"),
        ("'open", 1, "引用符が閉じていません"),
    ],
)
def test_syntax_errors_say_where_and_what(expression: str, position: int, detail: str) -> None:
    with pytest.raises(ConditionSyntaxError) as err:
        parse_condition(expression)
    assert f"{position} 文字目" in str(err.value) and detail in str(err.value)
