"""相談シート repository contract: numbering, content, lifecycle, comments (both backends)."""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from storage import (
    ALLOWED_TRANSITIONS,
    EDITABLE_STATUSES,
    STATUS_LABELS,
    CommentKind,
    ConsultationSheetUpdate,
    Database,
    IllegalTransitionError,
    NotFoundError,
    SheetNotEditableError,
    SheetStatus,
    add_sheet_comment,
    create_sheet,
    find_sheet,
    get_sheet,
    get_sheet_by_reference,
    list_sheet_comments,
    list_sheet_transitions,
    list_sheets,
    transition_sheet,
    update_sheet,
)
from tests.storage.factories import sheet_in

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
LEGAL = [(source, target) for source, targets in ALLOWED_TRANSITIONS.items() for target in targets]
ILLEGAL = [
    (source, target)
    for source in SheetStatus
    for target in SheetStatus
    if target not in ALLOWED_TRANSITIONS[source]
]


def _path_to(status: SheetStatus) -> list[SheetStatus]:
    """Shortest list of transitions from draft to ``status``."""
    paths: dict[SheetStatus, list[SheetStatus]] = {SheetStatus.DRAFT: []}
    queue = deque([SheetStatus.DRAFT])
    while queue:
        current = queue.popleft()
        for target in sorted(ALLOWED_TRANSITIONS[current]):
            if target not in paths:
                paths[target] = [*paths[current], target]
                queue.append(target)
    return paths[status]


def _sheet_in_status(database: Database, status: SheetStatus) -> str:
    with database.session() as session:
        sheet = create_sheet(session=session, sheet_in=sheet_in(), now=NOW)
        for step in _path_to(status):
            transition_sheet(
                session=session, sheet_id=sheet.id, to_status=step, actor_id="U9", now=NOW
            )
        return sheet.id


# --- creation and numbering -----------------------------------------------------------------


def test_create_sheet_round_trips_every_field(database: Database) -> None:
    with database.session() as session:
        created = create_sheet(session=session, sheet_in=sheet_in(), now=NOW)

    with database.session() as session:
        sheet = find_sheet(session=session, key=created.id)
        assert sheet.reference == "2026-0001"
        assert sheet.status is SheetStatus.DRAFT
        assert sheet.initial_cost == 4_500_000
        assert sheet.outcomes == {"dx_council_required": True, "rfi_recommended": True}
        decision = sheet.sections[0]["decisions"][0]
        assert decision["cites"][0]["section"] == "【Ⅰ. 検討】 > 3. ICT 活用に関する協議"
        assert sheet.questions == [{"text": "RFI とは？", "answered": True}]
        assert sheet.slots == {"initial_cost": 4_500_000, "mandated_by_law": False}
        assert sheet.created_at == NOW
        assert sheet.created_at.tzinfo is not None
        assert sheet.submitted_at is None


def test_costs_beyond_32_bits_are_kept(database: Database) -> None:
    with database.session() as session:
        sheet = create_sheet(
            session=session, sheet_in=sheet_in(initial_cost=12_000_000_000), now=NOW
        )
    with database.session() as session:
        assert find_sheet(session=session, key=sheet.reference).initial_cost == 12_000_000_000


def test_references_count_up_per_year_in_japan_time(database: Database) -> None:
    # 2026-12-31 15:30 UTC is already 2027-01-01 00:30 in Japan.
    times = [
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 12, 31, 14, 59, tzinfo=UTC),
        datetime(2026, 12, 31, 15, 30, tzinfo=UTC),
        datetime(2027, 2, 1, tzinfo=UTC),
    ]
    with database.session() as session:
        references = [
            create_sheet(session=session, sheet_in=sheet_in(), now=at).reference for at in times
        ]
    assert references == ["2026-0001", "2026-0002", "2027-0001", "2027-0002"]


def test_a_rolled_back_sheet_gives_its_number_back(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as session:
        create_sheet(session=session, sheet_in=sheet_in(), now=NOW)
        raise RuntimeError("the flow failed after creating the sheet")

    with database.session() as session:
        assert create_sheet(session=session, sheet_in=sheet_in(), now=NOW).reference == "2026-0001"


def test_concurrent_creation_from_two_engines_never_reuses_a_number(database: Database) -> None:
    other = Database(database.url.render_as_string(hide_password=False))
    engines = [database, other]
    threads_count, per_thread = 4, 5
    barrier = threading.Barrier(threads_count)
    references: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def create_many(index: int) -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                with engines[index % 2].session() as session:
                    reference = create_sheet(session=session, sheet_in=sheet_in(), now=NOW).reference
                with lock:
                    references.append(reference)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=create_many, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()

    assert errors == []
    expected = [f"2026-{n:04d}" for n in range(1, threads_count * per_thread + 1)]
    assert sorted(references) == expected


def test_find_sheet_by_reference_and_unknown_key(database: Database) -> None:
    with database.session() as session:
        sheet = create_sheet(session=session, sheet_in=sheet_in(), now=NOW)
        assert get_sheet_by_reference(session=session, reference="2026-0001") == sheet
        assert get_sheet(session=session, sheet_id="nope") is None
        with pytest.raises(NotFoundError, match="2099-0001"):
            find_sheet(session=session, key="2099-0001")


def test_list_sheets_filters(database: Database) -> None:
    with database.session() as session:
        a = create_sheet(session=session, sheet_in=sheet_in(department="市民課"), now=NOW)
        b = create_sheet(
            session=session,
            sheet_in=sheet_in(department="財政課", requester_id="U2"),
            now=NOW + timedelta(days=1),
        )
        c = create_sheet(
            session=session, sheet_in=sheet_in(tenant="T2"), now=NOW + timedelta(days=8)
        )
        transition_sheet(session=session, sheet_id=b.id, to_status=SheetStatus.SUBMITTED)

    with database.session() as session:
        ids = lambda sheets: [s.id for s in sheets]  # noqa: E731
        assert ids(list_sheets(session=session)) == [c.id, b.id, a.id]
        assert ids(list_sheets(session=session, tenant="T1")) == [b.id, a.id]
        assert ids(list_sheets(session=session, department="財政課")) == [b.id]
        assert ids(list_sheets(session=session, statuses=[SheetStatus.SUBMITTED])) == [b.id]
        assert ids(list_sheets(session=session, requester_id="U2")) == [b.id]
        week = list_sheets(
            session=session, created_from=NOW, created_before=NOW + timedelta(days=7)
        )
        assert ids(week) == [b.id, a.id]
        assert ids(list_sheets(session=session, limit=1)) == [c.id]


# --- editing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(SheetStatus))
def test_content_is_editable_only_while_draft_or_returned(
    database: Database, status: SheetStatus
) -> None:
    sheet_id = _sheet_in_status(database, status)
    change = ConsultationSheetUpdate(initial_cost=2_990_000, outcomes={"dx_council_required": False})

    with database.session() as session:
        if status in EDITABLE_STATUSES:
            sheet = update_sheet(session=session, sheet_id=sheet_id, sheet_in=change)
            assert sheet.initial_cost == 2_990_000
        else:
            with pytest.raises(SheetNotEditableError, match="編集できません"):
                update_sheet(session=session, sheet_id=sheet_id, sheet_in=change)

    with database.session() as session:
        stored = find_sheet(session=session, key=sheet_id)
        expected_cost = 2_990_000 if status in EDITABLE_STATUSES else 4_500_000
        assert stored.initial_cost == expected_cost
        assert stored.business == "窓口予約受付"  # fields not set are left alone


# --- lifecycle ------------------------------------------------------------------------------


def test_status_labels_are_japanese_and_complete() -> None:
    assert [STATUS_LABELS[s] for s in SheetStatus] == [
        "下書き", "提出済み", "確認中", "差し戻し", "受理", "完了", "取消",
    ]


@pytest.mark.parametrize(("source", "target"), LEGAL, ids=lambda s: s.value)
def test_every_legal_transition(database: Database, source: SheetStatus, target: SheetStatus) -> None:
    sheet_id = _sheet_in_status(database, source)
    at = NOW + timedelta(days=3)

    with database.session() as session:
        sheet = transition_sheet(
            session=session, sheet_id=sheet_id, to_status=target, actor_id="R1", now=at
        )
        assert sheet.status is target

    with database.session() as session:
        stored = find_sheet(session=session, key=sheet_id)
        assert stored.status is target
        assert stored.updated_at == at
        stamp = {
            SheetStatus.SUBMITTED: stored.submitted_at,
            SheetStatus.IN_REVIEW: at,
            SheetStatus.RETURNED: stored.reviewed_at,
            SheetStatus.ACCEPTED: stored.reviewed_at,
            SheetStatus.CLOSED: stored.closed_at,
            SheetStatus.CANCELLED: stored.closed_at,
        }[target]
        assert stamp == at
        last = list_sheet_transitions(session=session, sheet_id=sheet_id)[-1]
        assert (last.from_status, last.to_status, last.actor_id) == (source, target, "R1")


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=lambda s: s.value)
def test_every_illegal_transition_raises_in_japanese(
    database: Database, source: SheetStatus, target: SheetStatus
) -> None:
    sheet_id = _sheet_in_status(database, source)

    with database.session() as session, pytest.raises(IllegalTransitionError) as raised:
        transition_sheet(session=session, sheet_id=sheet_id, to_status=target)

    assert STATUS_LABELS[source] in str(raised.value)
    assert STATUS_LABELS[target] in str(raised.value)
    assert (raised.value.from_status, raised.value.to_status) == (source.value, target.value)
    with database.session() as session:
        assert find_sheet(session=session, key=sheet_id).status is source


def test_return_and_resubmit_keeps_the_history(database: Database) -> None:
    sheet_id = _sheet_in_status(database, SheetStatus.IN_REVIEW)
    with database.session() as session:
        transition_sheet(
            session=session,
            sheet_id=sheet_id,
            to_status=SheetStatus.RETURNED,
            actor_id="R1",
            actor_name="CIO補佐",
            comment="積算根拠を添付してください。",
        )
        update_sheet(
            session=session,
            sheet_id=sheet_id,
            sheet_in=ConsultationSheetUpdate(concerns="見積 3 社分を添付"),
        )
        transition_sheet(session=session, sheet_id=sheet_id, to_status=SheetStatus.SUBMITTED)
        add_sheet_comment(session=session, sheet_id=sheet_id, author_id="U1", text="添付しました")

    with database.session() as session:
        comments = list_sheet_comments(session=session, sheet_id=sheet_id)
        assert [(c.kind, c.text) for c in comments] == [
            (CommentKind.RETURN, "積算根拠を添付してください。"),
            (CommentKind.COMMENT, "添付しました"),
        ]
        moves = [t.to_status for t in list_sheet_transitions(session=session, sheet_id=sheet_id)]
        assert moves == [
            SheetStatus.SUBMITTED, SheetStatus.IN_REVIEW, SheetStatus.RETURNED, SheetStatus.SUBMITTED,
        ]


def test_events_recorded_with_an_earlier_time_still_list_in_the_order_they_happened(
    database: Database,
) -> None:
    """Lists follow a monotonic sequence, not the (caller-supplied) timestamps."""
    sheet_id = _sheet_in_status(database, SheetStatus.SUBMITTED)  # recorded at NOW
    earlier = NOW - timedelta(days=30)
    with database.session() as session:
        add_sheet_comment(session=session, sheet_id=sheet_id, author_id="R1", text="一つ目", now=NOW)
        transition_sheet(
            session=session, sheet_id=sheet_id, to_status=SheetStatus.IN_REVIEW,
            actor_id="R1", now=earlier,
        )
        transition_sheet(
            session=session, sheet_id=sheet_id, to_status=SheetStatus.RETURNED,
            actor_id="R1", comment="二つ目", now=earlier - timedelta(days=1),
        )
        add_sheet_comment(
            session=session, sheet_id=sheet_id, author_id="U1", text="三つ目",
            now=earlier - timedelta(days=2),
        )

    with database.session() as session:
        moves = [t.to_status for t in list_sheet_transitions(session=session, sheet_id=sheet_id)]
        assert moves == [SheetStatus.SUBMITTED, SheetStatus.IN_REVIEW, SheetStatus.RETURNED]
        texts = [c.text for c in list_sheet_comments(session=session, sheet_id=sheet_id)]
        assert texts == ["一つ目", "二つ目", "三つ目"]


def test_two_reviewers_accepting_at_once_only_one_wins(database: Database) -> None:
    sheet_id = _sheet_in_status(database, SheetStatus.IN_REVIEW)
    other = Database(database.url.render_as_string(hide_password=False))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def review(db: Database, target: SheetStatus) -> None:
        barrier.wait()
        try:
            with db.session() as session:
                transition_sheet(session=session, sheet_id=sheet_id, to_status=target)
            outcomes.append("ok")
        except IllegalTransitionError:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=review, args=(database, SheetStatus.ACCEPTED)),
        threading.Thread(target=review, args=(other, SheetStatus.RETURNED)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()

    assert sorted(outcomes) == ["ok", "refused"]
    with database.session() as session:
        assert len(list_sheet_transitions(session=session, sheet_id=sheet_id)) == 3


def test_comment_on_unknown_sheet_raises(database: Database) -> None:
    with database.session() as session, pytest.raises(NotFoundError):
        add_sheet_comment(session=session, sheet_id="missing", author_id="U1", text="?")
