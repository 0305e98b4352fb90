"""The ``timezone`` setting decides digest weeks, export times and the 整理番号 year."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.review.weeks import TOKYO, IsoWeek
from bot.settings import Settings
from bot.wiring import build_services
from storage import Database, create_sheet
from storage.export import export_sheets
from tests.storage.factories import sheet_in

UTC_ZONE = ZoneInfo("UTC")
MONDAY_0010_JST = datetime(2026, 11, 22, 15, 10, tzinfo=UTC)  # Sunday 15:10 UTC
NEW_YEAR_EVE_UTC = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)  # 2027-01-01 05:00 in Japan


def test_a_week_is_read_in_its_zone() -> None:
    in_tokyo = IsoWeek.containing(MONDAY_0010_JST)
    in_utc = IsoWeek.containing(MONDAY_0010_JST, UTC_ZONE)

    assert (str(in_tokyo), str(in_utc)) == ("2026-W48", "2026-W47")
    assert in_utc.start() == datetime(2026, 11, 16, tzinfo=UTC_ZONE)
    assert in_utc.contains(MONDAY_0010_JST) and not in_tokyo.previous().contains(MONDAY_0010_JST)
    assert IsoWeek.parse("2026-W47", UTC_ZONE) == IsoWeek(2026, 47)  # the zone is no identity
    assert IsoWeek.parse("2026-W47", UTC_ZONE).previous().zone is UTC_ZONE


def test_sheet_times_and_reference_year_follow_the_zone(sqlite_database: Database) -> None:
    with sqlite_database.session() as session:
        japan = create_sheet(session=session, sheet_in=sheet_in(), now=NEW_YEAR_EVE_UTC)
        utc = create_sheet(
            session=session, sheet_in=sheet_in(), now=NEW_YEAR_EVE_UTC, zone=UTC_ZONE
        )
    assert (japan.reference, utc.reference) == ("2027-0001", "2026-0001")

    def created(zone: ZoneInfo) -> str:
        rows = list(
            csv.reader(io.StringIO(export_sheets([japan], "csv", zone=zone).decode("utf-8-sig")))
        )
        return rows[1][rows[0].index("作成日時")]

    assert created(TOKYO).startswith("2027-01-01 05:00")
    assert created(UTC_ZONE).startswith("2026-12-31 20:00")


def test_the_setting_reaches_the_desk_the_scheduler_and_the_core(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, timezone="UTC")  # type: ignore[call-arg]
    services = build_services(settings, knowledge=object())  # type: ignore[arg-type]
    try:
        assert services.review.desk.zone == UTC_ZONE
        assert services.digest_scheduler.zone == UTC_ZONE
        assert services.assistant.consultations.zone == UTC_ZONE
    finally:
        services.database.dispose()
