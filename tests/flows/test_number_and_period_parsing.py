"""Numbers and dates/periods typed in Japanese."""

from __future__ import annotations

from datetime import date

import pytest

from flows.parsing import AnswerNotUnderstood, parse_number, parse_period

NUMBERS = [
    ("12", 12), ("1,200", 1200), ("約30人", 30), ("二十", 20), ("1万件", 10_000),
    ("12.5", 12.5), ("３台", 3), ("10件くらい", 10), ("なし", 0), ("年間1,200件", 1200),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), NUMBERS)
def test_number(text: str, expected: float) -> None:
    value = parse_number(text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text", ["たくさん", "", "10〜20", "3人と4人"])
def test_number_rejects(text: str) -> None:
    with pytest.raises(AnswerNotUnderstood, match="数字で入力"):
        parse_number(text)


TODAY = date(2026, 11, 21)  # 令和8年度
PERIODS = [
    ("2027年4月", date(2027, 4, 1), date(2027, 4, 30)),
    ("2027/4", date(2027, 4, 1), date(2027, 4, 30)),
    ("2027-04-01", date(2027, 4, 1), date(2027, 4, 1)),
    ("2027年4月1日", date(2027, 4, 1), date(2027, 4, 1)),
    ("２０２７年４月ごろ", date(2027, 4, 1), date(2027, 4, 30)),
    ("令和9年度", date(2027, 4, 1), date(2028, 3, 31)),
    ("2027年1月末", date(2027, 1, 31), date(2027, 1, 31)),
    ("来月末", date(2026, 12, 31), date(2026, 12, 31)),
    ("R9", date(2027, 4, 1), date(2028, 3, 31)),
    ("r9年度", date(2027, 4, 1), date(2028, 3, 31)),
    ("R9.4", date(2027, 4, 1), date(2027, 4, 30)),
    ("令和9年4月", date(2027, 4, 1), date(2027, 4, 30)),
    ("令和元年度", date(2019, 4, 1), date(2020, 3, 31)),
    ("令和九年度", date(2027, 4, 1), date(2028, 3, 31)),
    ("2027年度", date(2027, 4, 1), date(2028, 3, 31)),
    ("2027年", date(2027, 1, 1), date(2027, 12, 31)),
    ("平成31年", date(2019, 1, 1), date(2019, 12, 31)),
    ("来年度", date(2027, 4, 1), date(2028, 3, 31)),
    ("今年度", date(2026, 4, 1), date(2027, 3, 31)),
    ("再来年度", date(2028, 4, 1), date(2029, 3, 31)),
    ("来年4月", date(2027, 4, 1), date(2027, 4, 30)),
    ("来月", date(2026, 12, 1), date(2026, 12, 31)),
    ("4月", date(2027, 4, 1), date(2027, 4, 30)),
    ("12月", date(2026, 12, 1), date(2026, 12, 31)),
    ("来年度中", date(2027, 4, 1), date(2028, 3, 31)),
]


@pytest.mark.parametrize(("text", "start", "end"), PERIODS)
def test_period(text: str, start: date, end: date) -> None:
    period = parse_period(text, TODAY)
    assert (period.start, period.end) == (start, end)


def test_fiscal_year_relative_to_today_in_march() -> None:
    # 2027-03-15 is still 令和8年度, so 来年度 is 令和9年度.
    assert parse_period("来年度", date(2027, 3, 15)).label == "令和9年度（2027年4月〜2028年3月）"


def test_period_round_trips_as_dict() -> None:
    period = parse_period("令和9年度", TODAY)
    assert type(period).from_dict(period.to_dict()) == period


@pytest.mark.parametrize("text", ["いつか", "2027年13月", "2027年2月30日", "", "R"])
def test_period_rejects(text: str) -> None:
    with pytest.raises(AnswerNotUnderstood, match="2027年4月"):
        parse_period(text, TODAY)
