"""``soudan bench``'s console part runs end to end on PostgreSQL (figures are not asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.web.bench import run_console_bench
from tests.fixtures_db import PostgresServer


@pytest.mark.postgres
def test_the_console_bench_measures_both_pages(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.admin_url.render_as_string(hide_password=False)
    result = run_console_bench(url, sheets=60, rounds=20, data_dir=tmp_path)
    assert result.sheets == 60 and result.requests == 43 and result.digest_p95_ms > 0
    assert 0 < result.queue_p50_ms <= result.queue_p95_ms
    assert 0 < result.sheet_p50_ms <= result.sheet_p95_ms
    assert "レビュー一覧 p50" in result.format()
