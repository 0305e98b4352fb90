"""ISO weeks in the deployment's time zone (``timezone``, default Asia/Tokyo): a digest
week runs Monday 00:00 to Sunday 24:00 local time.

Timestamps in the database are UTC; a sheet created on Sunday 23:30 JST (14:30 UTC)
belongs to that week, one created on Monday 00:10 JST (Sunday 15:10 UTC) to the next.
Always convert to local time before deciding the week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")
"""The default zone; a deployment's is its ``timezone`` setting (``ReviewDesk.zone``)."""

_WEEK_PATTERN = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


class WeekFormatError(ValueError):
    """A week was not written as ``2026-W47``."""


@dataclass(frozen=True, order=True)
class IsoWeek:
    """One ISO week, e.g. ``IsoWeek(2026, 47)`` (written ``2026-W47``), in ``zone``.

    The zone is where its days begin and end (the ``timezone`` setting); it is not
    part of the week's identity (equality, order, hash).
    """

    year: int
    week: int
    zone: tzinfo = field(default=TOKYO, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @classmethod
    def parse(cls, text: str, zone: tzinfo = TOKYO) -> IsoWeek:
        """Read ``2026-W47`` (or ``2026W47``).

        Raises:
            WeekFormatError: the text is not an ISO week or the week does not exist.
        """
        match = _WEEK_PATTERN.match(text.strip())
        if not match:
            raise WeekFormatError(f"週は 2026-W47 の形式で指定してください: {text!r}")
        week = cls(int(match.group(1)), int(match.group(2)), zone)
        try:
            date.fromisocalendar(week.year, week.week, 1)
        except ValueError as error:
            raise WeekFormatError(f"存在しない週です: {text!r}") from error
        return week

    @classmethod
    def containing(cls, moment: datetime, zone: tzinfo = TOKYO) -> IsoWeek:
        """The week (in ``zone``) a moment falls in. Naive datetimes are taken as UTC."""
        local = as_utc(moment).astimezone(zone)
        year, week, _ = local.isocalendar()
        return cls(year, week, zone)

    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def start(self, zone: tzinfo | None = None) -> datetime:
        """Monday 00:00 in ``zone`` (default: the week's; timezone-aware)."""
        return datetime.combine(self.monday(), datetime.min.time(), tzinfo=zone or self.zone)

    def end(self, zone: tzinfo | None = None) -> datetime:
        """The next Monday 00:00 in ``zone``; the week is ``start <= t < end``."""
        return self.start(zone) + timedelta(days=7)

    def contains(self, moment: datetime | None, zone: tzinfo | None = None) -> bool:
        if moment is None:
            return False
        instant = as_utc(moment)
        return self.start(zone) <= instant < self.end(zone)

    def previous(self) -> IsoWeek:
        year, week, _ = (self.monday() - timedelta(days=7)).isocalendar()
        return IsoWeek(year, week, self.zone)


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime; naive values (as SQLite returns them) are UTC by convention."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
