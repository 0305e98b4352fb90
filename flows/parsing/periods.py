"""日付・期間 (dates and periods) typed in Japanese.

Accepted forms: ``2027年4月``, ``2027/4``, ``2027-04-01``, ``2027年4月1日``,
``2027年度`` (4月〜翌3月), ``令和9年度``, ``R9``, ``R9.4``, ``令和9年4月``, ``平成31年``,
``来年度`` / ``今年度`` / ``再来年度``, ``来年4月``, ``来月``, ``4月`` (the next 4月 on or
after today). Relative forms are resolved against the ``today`` the caller passes.
A bare era year (``R9``) reads as the fiscal year, which is how budgets are talked about.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from flows.parsing.answer_errors import AnswerNotUnderstood
from flows.parsing.normalize import normalize_answer
from flows.parsing.numerals import parse_numeral

_REASK = (
    "時期として読み取れませんでした。「2027年4月」「令和9年度」「R9」「来年度」"
    "のように入力してください。"
)
_ERAS = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988}
_NUM = r"(\d+|[〇一二三四五六七八九十]+|元)"
_ERA = r"(令和|平成|r|h)"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ymd", re.compile(rf"{_NUM}年{_NUM}月{_NUM}日")),
    ("ymd", re.compile(r"(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})")),
    ("era_ymd", re.compile(rf"{_ERA}{_NUM}[年/.]{_NUM}[月/.]{_NUM}日?")),
    ("era_fy", re.compile(rf"{_ERA}{_NUM}年度")),
    ("era_ym", re.compile(rf"{_ERA}{_NUM}[年/.]{_NUM}月?")),
    ("era_y", re.compile(rf"{_ERA}{_NUM}年")),
    ("era_fy", re.compile(rf"{_ERA}{_NUM}")),
    ("fy", re.compile(r"(\d{4})年度")),
    ("ym", re.compile(rf"(\d{{4}})年{_NUM}月")),
    ("ym", re.compile(r"(\d{4})[/\-.](\d{1,2})")),
    ("y", re.compile(r"(\d{4})年?")),
]
_RELATIVE_FY = {
    "今年度": 0,
    "本年度": 0,
    "当年度": 0,
    "来年度": 1,
    "次年度": 1,
    "翌年度": 1,
    "再来年度": 2,
}
_RELATIVE_YEAR = {"今年": 0, "本年": 0, "来年": 1, "翌年": 1, "再来年": 2}
_RELATIVE_MONTH = {"今月": 0, "来月": 1, "再来月": 2}
_TAILS = (
    "ごろ",
    "頃",
    "くらい",
    "ぐらい",
    "予定",
    "の予定",
    "中",
    "内",
    "目途",
    "めど",
    "から",
    "開始",
    "です",
    "を予定",
    "まで",
)


@dataclass(frozen=True)
class Period:
    """A day, a month, a calendar year or a fiscal year (年度: 4月1日〜翌3月31日)."""

    start: date
    end: date
    label: str
    """Japanese display text, e.g. ``令和9年度（2027年4月〜2028年3月）``."""

    def to_dict(self) -> dict[str, str]:
        """JSON-friendly form (ISO dates)."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Period:
        """Inverse of :meth:`to_dict`."""
        return cls(
            date.fromisoformat(data["start"]), date.fromisoformat(data["end"]), data["label"]
        )


def _number(text: str) -> int:
    if text == "元":
        return 1
    value = parse_numeral(text)
    if value is None:
        raise AnswerNotUnderstood(_REASK)
    return int(value)


def _era_label(year: int) -> str:
    if year >= 2019:
        n = year - 2018
        return f"令和{'元' if n == 1 else n}"
    return f"平成{year - 1988}"


def _fiscal_year(year: int) -> Period:
    return Period(
        date(year, 4, 1),
        date(year + 1, 3, 31),
        f"{_era_label(year)}年度（{year}年4月〜{year + 1}年3月）",
    )


def _month(year: int, month: int) -> Period:
    if not 1 <= month <= 12:
        raise AnswerNotUnderstood(f"{month}月という月はありません。{_REASK}")
    last = calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), date(year, month, last), f"{year}年{month}月")


def _day(year: int, month: int, day: int) -> Period:
    try:
        value = date(year, month, day)
    except ValueError:
        raise AnswerNotUnderstood(
            f"{year}年{month}月{day}日という日付はありません。{_REASK}"
        ) from None
    return Period(value, value, f"{year}年{month}月{day}日")


def _year(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), f"{year}年")


def _fiscal_year_of(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def parse_period(text: str, today: date) -> Period:
    """Read a date or a period.

    Args:
        text: What the user typed, e.g. ``"令和9年度"`` or ``"来年4月"``.
        today: The date relative forms (来年度, 来月, 4月) are resolved against.

    Returns:
        The period with start and end dates and a Japanese label.

    Raises:
        AnswerNotUnderstood: Not a date or period; ``reask`` says what to type.

    Example:
        >>> parse_period("R9", date(2026, 11, 21)).label
        '令和9年度（2027年4月〜2028年3月）'
    """
    body = normalize_answer(text)
    changed = True
    while changed:
        changed = False
        for tail in _TAILS:
            if body.endswith(tail) and len(body) > len(tail):
                body = body[: -len(tail)]
                changed = True
    if body.endswith("月末") and len(body) > 2:
        # 「1月末」「2027年1月末」: the last day of that month.
        end = parse_period(body[:-1], today).end
        return _day(end.year, end.month, end.day)
    if body in _RELATIVE_FY:
        return _fiscal_year(_fiscal_year_of(today) + _RELATIVE_FY[body])
    if body in _RELATIVE_MONTH:
        index = today.year * 12 + today.month - 1 + _RELATIVE_MONTH[body]
        return _month(index // 12, index % 12 + 1)
    relative = re.fullmatch(rf"(今年|本年|来年|翌年|再来年)(?:{_NUM}月)?", body)
    if relative:
        year = today.year + _RELATIVE_YEAR[relative.group(1)]
        return _month(year, _number(relative.group(2))) if relative.group(2) else _year(year)
    bare_month = re.fullmatch(rf"{_NUM}月", body)
    if bare_month:
        month = _number(bare_month.group(1))
        year = today.year if month >= today.month else today.year + 1
        return _month(year, month)
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(body)
        if match is None:
            continue
        groups = match.groups()
        if kind.startswith("era"):
            year = _ERAS[groups[0]] + _number(groups[1])
            rest = [_number(g) for g in groups[2:]]
        else:
            year = _number(groups[0])
            rest = [_number(g) for g in groups[1:]]
        if not 1900 <= year <= 2200:
            raise AnswerNotUnderstood(_REASK)
        if kind in ("ymd", "era_ymd"):
            return _day(year, rest[0], rest[1])
        if kind in ("ym", "era_ym"):
            return _month(year, rest[0])
        if kind in ("fy", "era_fy"):
            return _fiscal_year(year)
        return _year(year)
    raise AnswerNotUnderstood(_REASK)
