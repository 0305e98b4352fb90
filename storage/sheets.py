"""Repository of 相談シート (consultation sheets): create, read, edit, move through the lifecycle.

Every status change goes through :func:`transition_sheet`, which applies
:func:`storage.lifecycle.check_transition` to the row locked for update, so two
reviewers pressing "受理" at once cannot both succeed from the same status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from storage.columns import utc_now
from storage.conflicts import dialect_insert
from storage.errors import NotFoundError
from storage.lifecycle import SheetStatus, check_editable, check_transition
from storage.models import (
    CommentKind,
    ConsultationSheet,
    ConsultationSheetCreate,
    ConsultationSheetUpdate,
    ReferenceCounter,
    SheetComment,
    SheetOutcome,
    SheetTransition,
)

REFERENCE_TIMEZONE = ZoneInfo("Asia/Tokyo")
"""Default zone of a 整理番号's year (callers pass the ``timezone`` setting)."""

_COMMENT_KIND_FOR_STATUS = {
    SheetStatus.RETURNED: CommentKind.RETURN,
    SheetStatus.ACCEPTED: CommentKind.ACCEPT,
}


def allocate_reference(*, session: Session, year: int) -> str:
    """Issue the next 整理番号 of ``year``, e.g. ``"2026-0001"``.

    One atomic upsert bumps the year's counter row; the row stays locked until the
    caller's transaction ends, so concurrent allocations never return the same
    number and a rolled-back sheet gives its number back.
    """
    insert = dialect_insert(session, ReferenceCounter)
    statement = (
        insert.values(year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=["year"],
            set_={"last_number": ReferenceCounter.__table__.c.last_number + 1},  # type: ignore[attr-defined]
        )
        .returning(ReferenceCounter.__table__.c.last_number)  # type: ignore[attr-defined]
    )
    number = session.execute(statement).scalar_one()
    return f"{year}-{number:04d}"


def create_sheet(
    *,
    session: Session,
    sheet_in: ConsultationSheetCreate,
    now: datetime | None = None,
    zone: tzinfo = REFERENCE_TIMEZONE,
) -> ConsultationSheet:
    """Create a 相談シート in ``draft`` with the next 整理番号 (its year: the calendar year
    in ``zone``, the deployment's ``timezone`` setting).

    Example:
        >>> sheet = create_sheet(session=session, sheet_in=ConsultationSheetCreate(
        ...     channel="slack", tenant="T1", conversation="C1:1700000000.0001",
        ...     requester_id="U1", department="総務課", business="窓口予約"))  # doctest: +SKIP
        >>> sheet.reference, sheet.status                                 # doctest: +SKIP
        ('2026-0001', <SheetStatus.DRAFT: 'draft'>)
    """
    created = now or utc_now()
    reference = allocate_reference(
        session=session, year=created.astimezone(zone).year
    )
    sheet = ConsultationSheet.model_validate(
        sheet_in,
        update={
            "reference": reference,
            "status": SheetStatus.DRAFT,
            "created_at": created,
            "updated_at": created,
        },
    )
    session.add(sheet)
    session.flush()
    _mirror_outcomes(session, sheet.id, sheet.outcomes)
    return sheet


def _mirror_outcomes(session: Session, sheet_id: str, outcomes: Mapping[str, Any]) -> None:
    """Rewrite the sheet's :class:`SheetOutcome` rows from its ``outcomes`` JSON."""
    session.execute(sa.delete(SheetOutcome).where(col(SheetOutcome.sheet_id) == sheet_id))
    for name, value in outcomes.items():
        if isinstance(value, bool):
            session.add(SheetOutcome(sheet_id=sheet_id, name=name, value=value))
    session.flush()


def get_sheet(*, session: Session, sheet_id: str) -> ConsultationSheet | None:
    """The sheet with this id, or None."""
    return session.get(ConsultationSheet, sheet_id)


def get_sheet_by_reference(*, session: Session, reference: str) -> ConsultationSheet | None:
    """The sheet with this 整理番号 (e.g. ``2026-0001``), or None."""
    statement = select(ConsultationSheet).where(ConsultationSheet.reference == reference)
    return session.exec(statement).first()


def find_sheet(*, session: Session, key: str) -> ConsultationSheet:
    """The sheet named by id or 整理番号; raises :class:`NotFoundError` (Japanese message)."""
    sheet = get_sheet(session=session, sheet_id=key) or get_sheet_by_reference(
        session=session, reference=key
    )
    if sheet is None:
        raise NotFoundError("相談シート", key)
    return sheet


def list_sheets(
    *,
    session: Session,
    tenant: str | None = None,
    department: str | None = None,
    statuses: Iterable[SheetStatus] | None = None,
    requester_id: str | None = None,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
    outcome: tuple[str, bool] | None = None,
    limit: int | None = None,
) -> list[ConsultationSheet]:
    """Sheets matching every filter given, newest first.

    ``created_from`` is inclusive and ``created_before`` exclusive (a week is
    ``[monday 00:00, next monday 00:00)``). ``outcome`` (name, value): only sheets
    whose decision outcome ``name`` has that value (through ``sheet_outcome``).
    """
    statement = select(ConsultationSheet)
    if outcome is not None:
        statement = statement.join(
            SheetOutcome, col(SheetOutcome.sheet_id) == col(ConsultationSheet.id)
        ).where(SheetOutcome.name == outcome[0], SheetOutcome.value == outcome[1])
    if tenant is not None:
        statement = statement.where(ConsultationSheet.tenant == tenant)
    if department is not None:
        statement = statement.where(ConsultationSheet.department == department)
    if statuses is not None:
        statement = statement.where(col(ConsultationSheet.status).in_(list(statuses)))
    if requester_id is not None:
        statement = statement.where(ConsultationSheet.requester_id == requester_id)
    if created_from is not None:
        statement = statement.where(ConsultationSheet.created_at >= created_from)
    if created_before is not None:
        statement = statement.where(ConsultationSheet.created_at < created_before)
    statement = statement.order_by(
        col(ConsultationSheet.created_at).desc(), col(ConsultationSheet.reference).desc()
    )
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all())


def _lock_sheet(session: Session, sheet_id: str) -> ConsultationSheet:
    sheet = session.get(
        ConsultationSheet, sheet_id, with_for_update=True, populate_existing=True
    )
    if sheet is None:
        raise NotFoundError("相談シート", sheet_id)
    return sheet


def update_sheet(
    *,
    session: Session,
    sheet_id: str,
    sheet_in: ConsultationSheetUpdate,
    now: datetime | None = None,
) -> ConsultationSheet:
    """Apply the fields set in ``sheet_in``.

    Raises:
        SheetNotEditableError: the sheet is not ``draft`` or ``returned``.
        NotFoundError: no such sheet.
    """
    sheet = _lock_sheet(session, sheet_id)
    check_editable(sheet.status)
    changes = sheet_in.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(sheet, name, value)
    sheet.updated_at = now or utc_now()
    session.add(sheet)
    session.flush()
    if "outcomes" in changes:
        _mirror_outcomes(session, sheet.id, sheet.outcomes)
    return sheet


FOLLOW_UP_STATUSES = frozenset({
    SheetStatus.DRAFT, SheetStatus.SUBMITTED, SheetStatus.IN_REVIEW, SheetStatus.RETURNED,
    SheetStatus.ACCEPTED,
})
"""Statuses in which a follow-up flow (e.g. RFI) may add its section to a sheet."""


def put_sheet_section(
    *,
    session: Session,
    sheet_id: str,
    section: dict[str, Any],
    now: datetime | None = None,
) -> ConsultationSheet:
    """Add or replace the section of ``section["flow"]``; merge its slots and outcomes.

    The sheet's own flow edits its section through :func:`update_sheet` (draft and
    returned only). A follow-up flow appends to the same sheet while the consultation
    is open (any status but 完了 / 取消): it adds to what the CIO補佐 reviews without
    changing the answers they already read.

    Raises:
        SheetNotEditableError: the sheet is closed or cancelled, or the section is the
            sheet's own flow and the sheet is not editable.
        NotFoundError: no such sheet.
    """
    sheet = _lock_sheet(session, sheet_id)
    flow_id = section.get("flow")
    if flow_id == sheet.flow_id or SheetStatus(sheet.status) not in FOLLOW_UP_STATUSES:
        check_editable(sheet.status)
    own = flow_id == sheet.flow_id
    sections = [s for s in sheet.sections if s.get("flow") != flow_id]
    sheet.sections = [section, *sections] if own else [*sections, section]
    slots: dict[str, Any] = {}
    outcomes: dict[str, bool] = {}
    for part in sheet.sections:
        slots.update({a["slot"]: a["value"] for a in part.get("answers", [])})
        decided = {d["name"]: d["value"] for d in part.get("decisions", [])}
        outcomes.update(part.get("outcomes") or decided)
    sheet.slots, sheet.outcomes = slots, outcomes
    if section.get("subject") and (own or not sheet.business):
        sheet.business = str(section["subject"])
    if own:
        sheet.initial_cost = section.get("cost")
    elif sheet.initial_cost is None and section.get("cost") is not None:
        sheet.initial_cost = int(section["cost"])
    sheet.updated_at = now or utc_now()
    session.add(sheet)
    session.flush()
    _mirror_outcomes(session, sheet.id, sheet.outcomes)
    return sheet


def transition_sheet(
    *,
    session: Session,
    sheet_id: str,
    to_status: SheetStatus,
    actor_id: str | None = None,
    comment: str | None = None,
    actor_name: str | None = None,
    now: datetime | None = None,
) -> ConsultationSheet:
    """Move a sheet to ``to_status``, the one place where status changes.

    Sets ``submitted_at`` (submit and resubmit), ``reviewed_at`` (returned and
    accepted) or ``closed_at``, records a :class:`SheetTransition`, and when
    ``comment`` is given adds a :class:`SheetComment` (kind ``return`` / ``accept``
    for those transitions, else ``comment``).

    Raises:
        IllegalTransitionError: the lifecycle forbids the change (Japanese message).
        NotFoundError: no such sheet.
    """
    at = now or utc_now()
    sheet = _lock_sheet(session, sheet_id)
    from_status = SheetStatus(sheet.status)
    target = SheetStatus(to_status)
    check_transition(from_status, target)
    sheet.status = target
    sheet.updated_at = at
    if target is SheetStatus.SUBMITTED:
        sheet.submitted_at = at
    elif target in (SheetStatus.RETURNED, SheetStatus.ACCEPTED):
        sheet.reviewed_at = at
    elif target in (SheetStatus.CLOSED, SheetStatus.CANCELLED):
        sheet.closed_at = at
    session.add(sheet)
    session.add(
        SheetTransition(
            sheet_id=sheet.id, from_status=from_status, to_status=target, actor_id=actor_id, at=at
        )
    )
    if comment:
        session.add(
            SheetComment(
                sheet_id=sheet.id,
                author_id=actor_id or "",
                author_name=actor_name,
                text=comment,
                kind=_COMMENT_KIND_FOR_STATUS.get(target, CommentKind.COMMENT),
                created_at=at,
                seq=_next_comment_seq(session, sheet.id),
            )
        )
    session.flush()
    return sheet


def add_sheet_comment(
    *,
    session: Session,
    sheet_id: str,
    author_id: str,
    text: str,
    kind: CommentKind = CommentKind.COMMENT,
    author_name: str | None = None,
    now: datetime | None = None,
) -> SheetComment:
    """Add a comment to a sheet (any status)."""
    _lock_sheet(session, sheet_id)  # serialises the comments of one sheet (their seq)
    comment = SheetComment(
        seq=_next_comment_seq(session, sheet_id),
        sheet_id=sheet_id,
        author_id=author_id,
        author_name=author_name,
        text=text,
        kind=kind,
        created_at=now or utc_now(),
    )
    session.add(comment)
    session.flush()
    return comment


def _next_comment_seq(session: Session, sheet_id: str) -> int:
    """The next position in a sheet's comment order (the caller holds the sheet's lock)."""
    statement = sa.select(sa.func.max(col(SheetComment.seq))).where(
        col(SheetComment.sheet_id) == sheet_id
    )
    return int(session.execute(statement).scalar() or 0) + 1


def list_sheet_comments(*, session: Session, sheet_id: str) -> list[SheetComment]:
    """Comments on a sheet, oldest first."""
    statement = (
        select(SheetComment)
        .where(SheetComment.sheet_id == sheet_id)
        .order_by(col(SheetComment.seq))
    )
    return list(session.exec(statement).all())


def comments_by_sheet(
    *, session: Session, sheet_ids: Iterable[str]
) -> dict[str, list[SheetComment]]:
    """The comments of many sheets at once: sheet id -> comments in order."""
    return rows_by_sheet(
        session=session, model=SheetComment, sheet_column=SheetComment.sheet_id,
        sheet_ids=sheet_ids,
        order=(col(SheetComment.sheet_id), col(SheetComment.seq)),
    )


_Row = TypeVar("_Row", bound=SQLModel)


def rows_by_sheet(
    *,
    session: Session,
    model: type[_Row],
    sheet_column: Any,
    sheet_ids: Iterable[str],
    order: Sequence[Any],
) -> dict[str, list[_Row]]:
    """Rows of ``model`` for many sheets at once, in batches of 500 ids: sheet id (the
    value of ``sheet_column``, e.g. ``SheetComment.sheet_id``) -> its rows in ``order``."""
    ids = list(sheet_ids)
    column, key = col(sheet_column), str(sheet_column.key)
    found: dict[str, list[_Row]] = {}
    for start in range(0, len(ids), 500):
        statement = select(model).where(column.in_(ids[start:start + 500])).order_by(*order)
        for row in session.exec(statement).all():
            found.setdefault(getattr(row, key), []).append(row)
    return found


def list_sheet_transitions(
    *,
    session: Session,
    sheet_id: str | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
) -> list[SheetTransition]:
    """Status changes, oldest first; filter by sheet and/or ``[since, before)``."""
    statement = select(SheetTransition)
    if sheet_id is not None:
        statement = statement.where(SheetTransition.sheet_id == sheet_id)
    if since is not None:
        statement = statement.where(SheetTransition.at >= since)
    if before is not None:
        statement = statement.where(SheetTransition.at < before)
    # The id is a monotonic sequence: the order the changes happened in, whatever ``at`` says.
    statement = statement.order_by(col(SheetTransition.id))
    return list(session.exec(statement).all())


def status_at(
    sheet: ConsultationSheet, history: Sequence[SheetTransition], moment: datetime
) -> str | None:
    """The status ``sheet`` had at ``moment`` (``None`` before it existed), read from its
    ``history`` (:func:`list_sheet_transitions`, oldest first); without history, its
    status now."""
    if moment < sheet.created_at:
        return None
    if not history:
        return SheetStatus(sheet.status).value
    status = SheetStatus.DRAFT.value
    for step in history:
        if step.at >= moment:
            break
        status = SheetStatus(step.to_status).value
    return status


def last_entered(
    history: Iterable[SheetTransition], status: str, before: datetime
) -> datetime | None:
    """When the sheet whose ``history`` this is last moved into ``status`` before ``before``."""
    moments = [t.at for t in history if t.to_status == status and t.at < before]
    return max(moments) if moments else None
