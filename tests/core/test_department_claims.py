"""Departments are facts, not claims: a self-declared department waits for an administrator.

A new chat user who answers the department question with 「税務課」 is recorded as
税務課 (pending); their own consultation sheet carries it, but 税務課's other sheets
stay closed until an administrator confirms the department (here in chat, as the
administrator does with 「レビュー」 → 承認; the CLI does the same through
``UserDirectory.confirm_department``). A sender from another organisation may ask
guideline questions but never starts a consultation.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import storage
from bot.cli.acting import os_operator
from bot.core.messages import Action, SheetSummary
from bot.review.store import ReviewStore
from bot.users import UserDirectory, UserEntry
from bot.wiring import Services
from tests.core.conversation import Conversation

TENANT = "T-kisarazu"
TAX_SHEET_BUSINESS = "固定資産税の課税台帳照会（個人番号を含む）"


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


@pytest.fixture
def tax_sheet(services: Services) -> str:
    """A 税務課 sheet made by a colleague whose department an administrator registered."""
    store = ReviewStore(services.database)
    UserDirectory(store).add(UserEntry("terminal", TENANT, "U-suzuki", "staff", "税務課"),
                             operator=os_operator())
    with services.database.session() as session:
        sheet = storage.create_sheet(
            session=session,
            sheet_in=storage.ConsultationSheetCreate(
                channel="terminal", tenant=TENANT, conversation="thread-suzuki",
                requester_id="U-suzuki", requester_name="鈴木", department="税務課",
                flow_id="ict_adoption", business=TAX_SHEET_BUSINESS,
            ),
        )
        return sheet.id


def _sheets_of(services: Services, user_id: str) -> list[storage.ConsultationSheet]:
    with services.database.session() as session:
        return storage.list_sheets(session=session, tenant=TENANT, requester_id=user_id)


def test_a_claimed_department_opens_its_sheets_only_once_an_administrator_confirms_it(
    services: Services, tax_sheet: str
) -> None:
    newcomer = Conversation(services.assistant, conversation="dm-new", user_id="U-new",
                            user_name="新人 太郎", tenant=TENANT)
    newcomer.say("相談を始める")
    newcomer.say("税務課")
    assert "「税務課」として登録しました" in newcomer.text
    assert "管理者（情報政策課）の確認後" in newcomer.text
    [own] = _sheets_of(services, "U-new")
    assert own.department == "税務課"  # the CIO補佐 still sees where it comes from

    # Pending: 「レビュー」 shows their own sheet only, and 開く on 税務課's sheet is refused.
    newcomer.say("レビュー")
    assert "確認待ち" in newcomer.text and own.reference in newcomer.text
    assert TAX_SHEET_BUSINESS not in newcomer.text
    newcomer.send(newcomer.inbound(action=Action("review.open", tax_sheet)))
    assert "表示できません" in newcomer.text and TAX_SHEET_BUSINESS not in newcomer.text
    newcomer.send(newcomer.inbound(action=Action("review.open", own.id)))
    assert any(isinstance(p, SheetSummary) and p.reference == own.reference
               for p in newcomer.last)

    # An administrator of the tenant sees the claim in chat and confirms it.
    UserDirectory(ReviewStore(services.database)).add(
        UserEntry("terminal", TENANT, "U-admin", "admin", display_name="情報政策課 管理者"),
        operator=os_operator(),
    )
    admin = Conversation(services.assistant, conversation="dm-admin", user_id="U-admin",
                         user_name="情報政策課 管理者", tenant=TENANT)
    admin.say("レビュー")
    assert "確認待ちの所属部署（1件）" in admin.text and "税務課" in admin.text
    admin.click("承認")
    assert "「税務課」を承認しました" in admin.text
    assert "確認待ちの所属部署はありません" in admin.text

    newcomer.send(newcomer.inbound(action=Action("review.open", tax_sheet)))
    assert TAX_SHEET_BUSINESS in newcomer.text
    newcomer.say("レビュー")
    assert "税務課の相談シート" in newcomer.text and TAX_SHEET_BUSINESS in newcomer.text

    with services.database.session() as session:
        claims = storage.list_audit(session=session, action="user.set_department")
        views = storage.list_audit(session=session, action="review.view",
                                   actor=storage.actor_key("terminal", TENANT, "U-new"))
        confirmations = storage.list_audit(session=session,
                                           action="review.user.confirm_department")
        profile = storage.get_user_profile(session=session, channel="terminal",
                                           tenant=TENANT, user_id="U-new")
    assert [c.detail["status"] for c in claims] == ["pending"]
    assert [(v.target, v.result) for v in views] == [
        (tax_sheet, storage.AuditResult.DENIED),
        (own.id, storage.AuditResult.ALLOWED),
        (tax_sheet, storage.AuditResult.ALLOWED),
    ]
    assert [(c.actor, c.target) for c in confirmations] == [
        ("terminal:T-kisarazu:U-admin", "terminal:T-kisarazu:U-new"),
    ]
    assert profile is not None and profile.department_confirmed_by == "terminal:T-kisarazu:U-admin"


def test_an_admin_of_another_tenant_cannot_confirm(services: Services, tax_sheet: str) -> None:
    newcomer = Conversation(services.assistant, user_id="U-new", tenant=TENANT)
    newcomer.say("相談を始める")
    newcomer.say("税務課")
    store = ReviewStore(services.database)
    UserDirectory(store).add(UserEntry("terminal", "T-other", "U-admin2", "admin"),
                             operator=os_operator())
    stranger = Conversation(services.assistant, conversation="dm-x", user_id="U-admin2",
                            tenant="T-other")
    stranger.say("レビュー")
    assert "確認待ちの所属部署はありません" in stranger.text  # T-kisarazu's claim not listed
    stranger.send(stranger.inbound(
        action=Action("review.confirm_department", "terminal:T-kisarazu:U-new")))
    assert "ご自身の組織（テナント）の利用者だけ" in stranger.text
    assert store.actor("terminal", TENANT, "U-new").department_pending
    with services.database.session() as session:
        [denied] = storage.list_audit(session=session, action="review.user.confirm_department")
    assert (denied.actor, denied.result) == ("terminal:T-other:U-admin2",
                                             storage.AuditResult.DENIED)


def test_a_sender_from_another_organisation_may_ask_but_not_consult(
    services: Services, tax_sheet: str
) -> None:
    guest = Conversation(services.assistant, conversation="shared-1", user_id="U-vendor",
                         tenant=TENANT)
    guest.say("相談を始める", home_tenant="T-vendor")
    assert "組織の外" in guest.text
    guest.say("相談シート", home_tenant="T-vendor")
    assert "組織の外" in guest.text
    guest.say("レビュー", home_tenant="T-vendor")
    assert "組織の外" in guest.text and "所属部署" not in guest.text
    guest.send(guest.inbound(action=Action("review.open", tax_sheet), home_tenant="T-vendor"))
    assert "組織の外" in guest.text and TAX_SHEET_BUSINESS not in guest.text
    guest.say("RFI とは何ですか？", home_tenant="T-vendor")
    assert "組織の外" not in guest.text and "RFI" in guest.text
    assert _sheets_of(services, "U-vendor") == []
    with services.database.session() as session:
        consults = storage.list_audit(session=session, action="review.consult")
    assert [(c.result, c.detail.get("outside_from")) for c in consults] == [
        (storage.AuditResult.DENIED, "T-vendor"), (storage.AuditResult.DENIED, "T-vendor"),
    ]
