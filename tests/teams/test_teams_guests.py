"""A Teams user from another Azure AD tenant sees no 相談シート unless a setting admits the tenant.

Activities POSTed to the real ``/api/messages`` endpoint (anonymous local mode) with the
mock Bot Connector on 127.0.0.1, the real core, review desk and storage; what Teams
sends for a user of another organisation: ``from.tenantId`` differing from the
conversation's tenant (a shared channel, a cross-tenant chat).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import storage
from bot.teams.inbound import home_tenant_of
from bot.wiring import Services, build_services
from tests.teams.activities import CHANNEL_THREAD, OTHER_TENANT, TENANT, message
from tests.teams.connector import MockConnector
from tests.teams.fakes import GuidelineExcerpts
from tests.teams.running_bot import RunningBot, StartBot, teams_settings
from tests.teams.teams_user import shown_text

BUSINESS = "課税台帳の照会（個人番号を含む）"
GUEST = "aad-object-guest"


@pytest.fixture
def make_services(tmp_path: Path) -> Iterator[Any]:
    built: list[Services] = []

    def make(**settings: Any) -> Services:
        services = build_services(teams_settings(tmp_path / "data", **settings),
                                  knowledge=GuidelineExcerpts())  # type: ignore[arg-type]
        built.append(services)
        with services.database.session() as session:
            # The worst case: a profile in the host tenant says the guest is 税務課 staff.
            storage.assign_department(session=session, channel="teams", tenant=TENANT,
                                      user_id=GUEST, department="税務課",
                                      confirmed_by="cli:local:operator")
            storage.create_sheet(session=session, sheet_in=storage.ConsultationSheetCreate(
                channel="teams", tenant=TENANT, conversation="a:1other", requester_id="U200",
                department="税務課", flow_id="ict_adoption", business=BUSINESS))
        return services

    yield make
    for services in built:
        services.database.dispose()


def _from_other_tenant(connector: MockConnector, text: str, home: str) -> dict[str, Any]:
    activity = message(connector.service_url, text, conversation=CHANNEL_THREAD,
                       user_aad_id=GUEST, mention_bot=True)
    activity["from"]["tenantId"] = home
    return activity


async def _say(running: RunningBot, connector: MockConnector, text: str, home: str) -> str:
    before = len(connector.messages())
    await running.turn(_from_other_tenant(connector, text, home))
    return shown_text(connector.messages()[before:])


async def test_a_user_from_another_tenant_sees_no_sheets_but_may_ask(
    start_bot: StartBot, connector: MockConnector, make_services: Any,
) -> None:
    services = make_services()
    running = await start_bot(services=services)

    review = await _say(running, connector, "レビュー", OTHER_TENANT)
    assert "組織の外" in review and BUSINESS not in review
    assert "組織の外" in await _say(running, connector, "相談を始める", OTHER_TENANT)
    answer = await _say(running, connector, "RFI とは？", OTHER_TENANT)
    assert "組織の外" not in answer and "RFI" in answer
    # The same person reported as a member of the host tenant: their 税務課 sheets.
    assert BUSINESS in await _say(running, connector, "レビュー", TENANT)

    with services.database.session() as session:
        rows = storage.list_audit(session=session, actor=f"teams:{TENANT}:{GUEST}")
        sheets = storage.list_sheets(session=session, tenant=TENANT)
    assert [(r.action, r.result, r.detail.get("outside_from")) for r in rows[:2]] == [
        ("review.list", storage.AuditResult.DENIED, OTHER_TENANT),
        ("review.consult", storage.AuditResult.DENIED, OTHER_TENANT),
    ]
    assert len(sheets) == 1  # 相談を始める made no sheet


async def test_a_tenant_listed_in_the_settings_counts_as_inside(
    start_bot: StartBot, connector: MockConnector, make_services: Any,
) -> None:
    services = make_services(teams_allowed_tenants=f"other-one, {OTHER_TENANT}")
    assert services.settings.teams_allowed_tenants == ["other-one", OTHER_TENANT]
    running = await start_bot(services=services)

    review = await _say(running, connector, "レビュー", OTHER_TENANT)
    assert "組織の外" not in review and BUSINESS in review


def test_the_home_tenant_is_read_from_the_sender() -> None:
    from botbuilder.schema import Activity

    def home(sender: dict[str, Any]) -> str | None:
        activity = Activity().deserialize(
            {"type": "message", "from": {"id": "29:x", **sender}})
        return home_tenant_of(activity, TENANT)

    assert home({}) is None
    assert home({"tenantId": TENANT}) is None
    assert home({"tenantId": OTHER_TENANT}) == OTHER_TENANT
    assert home({"userRole": "guest"}) == "guest"  # invited guest, own tenant not reported
    assert home({"userRole": "user"}) is None
