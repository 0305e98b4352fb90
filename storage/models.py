"""SQLModel tables of soudan, in the ``XBase / XCreate / XUpdate / X(table=True)`` form.

Importing this module registers every table on :data:`sqlmodel.SQLModel.metadata`;
nothing connects to a database. The schema itself is created by the Alembic
migrations in ``storage/migrations`` (see :meth:`storage.Database.upgrade`).

JSON columns are replaced, never mutated in place: assign a new dict/list (the
repository functions do) so that the change is noticed and saved.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapper, ORMExecuteState, Session
from sqlmodel import Field, SQLModel

from storage.columns import JSONDocument, UTCDateTime, enum_string, utc_now
from storage.errors import AppendOnlyError
from storage.lifecycle import SheetStatus


def new_id() -> str:
    """A new random row id (UUID4 as text)."""
    return str(uuid4())


class FlowStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MessageDirection(StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class FeedbackValue(StrEnum):
    UP = "up"
    DOWN = "down"


class AuditResult(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


class UserRole(StrEnum):
    STAFF = "staff"
    REVIEWER = "reviewer"
    ADMIN = "admin"


class CommentKind(StrEnum):
    COMMENT = "comment"
    RETURN = "return"
    ACCEPT = "accept"


# --- 相談シート ------------------------------------------------------------------------


class ConsultationSheetContent(SQLModel):
    """The part of a 相談シート the requester fills in (editable while draft/returned).

    What a flow collected lives in ``sections`` (one per flow run on the sheet, see
    :mod:`flows.sheet_section`): every answer and outcome with its label, kind and
    citations, so any flow renders without knowing its slot names. ``business`` and
    ``initial_cost`` are the report columns the flow file names (``sheet.subject`` /
    ``sheet.cost``); ``outcomes`` is mirrored into :class:`SheetOutcome` for queries.
    """

    department: str | None = Field(default=None, max_length=200, index=True)
    requester_name: str | None = Field(default=None, max_length=200)
    business: str = Field(default="", description="対象業務")
    initial_cost: int | None = Field(
        default=None, sa_type=sa.BigInteger, index=True, description="イニシャルコスト設計額（円）"
    )
    flow_id: str | None = Field(default=None, max_length=100)
    """The flow the sheet was started with (follow-up flows add sections)."""
    slots: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    """Parsed flow answers of every section, slot name -> value."""
    outcomes: dict[str, bool] = Field(default_factory=dict, sa_type=JSONDocument)
    """Decision outcomes of every section by name (mirrored in ``sheet_outcome``)."""
    sections: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONDocument)
    """One per flow: ``{"flow", "title", "answers": [...], "decisions": [...]}``."""
    questions: list[Any] = Field(default_factory=list, sa_type=JSONDocument)
    """Questions asked during the consultation: ``[{"text": str, "answered": bool}]``."""


class ConsultationSheetBase(ConsultationSheetContent):
    """Content plus who asked and where (the address used for notifications)."""

    channel: str = Field(max_length=20)
    tenant: str = Field(max_length=200, index=True)
    conversation: str = Field(max_length=500)
    requester_id: str = Field(max_length=200, index=True)


class ConsultationSheetCreate(ConsultationSheetBase):
    """What :func:`storage.sheets.create_sheet` needs."""


class ConsultationSheetUpdate(SQLModel):
    """Content changes; only the fields that are set are applied."""

    department: str | None = None
    requester_name: str | None = None
    business: str | None = None
    initial_cost: int | None = None
    flow_id: str | None = None
    slots: dict[str, Any] | None = None
    outcomes: dict[str, bool] | None = None
    sections: list[dict[str, Any]] | None = None
    questions: list[Any] | None = None


class ConsultationSheet(ConsultationSheetBase, table=True):
    """相談シート (consultation sheet)."""

    __tablename__ = "consultation_sheet"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    reference: str = Field(max_length=20, unique=True, description="整理番号 e.g. 2026-0001")
    status: SheetStatus = Field(
        default=SheetStatus.DRAFT, sa_type=enum_string(SheetStatus), index=True
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def requester(self) -> tuple[str, str] | None:
        """(channel, user id) of the person who made the sheet, when known."""
        return (self.channel, self.requester_id) if self.requester_id else None


class SheetOutcome(SQLModel, table=True):
    """One decision outcome of a sheet, typed and indexed for reports (mirrors ``outcomes``).

    Written by :mod:`storage.sheets` whenever a sheet's ``outcomes`` change.
    """

    __tablename__ = "sheet_outcome"
    __table_args__ = (sa.Index("ix_sheet_outcome_name_value", "name", "value"),)

    sheet_id: str = Field(
        foreign_key="consultation_sheet.id", primary_key=True, max_length=36
    )
    name: str = Field(primary_key=True, max_length=100)
    value: bool


class ReferenceCounter(SQLModel, table=True):
    """Last 整理番号 issued per year; bumped in the transaction that creates a sheet."""

    __tablename__ = "reference_counter"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_number: int = Field(default=0)


class SheetTransition(SQLModel, table=True):
    """One status change of a sheet (history for the digest and the detail view)."""

    __tablename__ = "sheet_transition"

    id: int | None = Field(default=None, primary_key=True)
    sheet_id: str = Field(foreign_key="consultation_sheet.id", max_length=36, index=True)
    from_status: SheetStatus = Field(sa_type=enum_string(SheetStatus))
    to_status: SheetStatus = Field(sa_type=enum_string(SheetStatus))
    actor_id: str | None = Field(default=None, max_length=200)
    at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)


class SheetComment(SQLModel, table=True):
    """A comment on a sheet; ``return`` / ``accept`` comments go with those transitions."""

    __tablename__ = "sheet_comment"
    __table_args__ = (sa.UniqueConstraint("sheet_id", "seq", name="uq_sheet_comment_seq"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    sheet_id: str = Field(foreign_key="consultation_sheet.id", max_length=36, index=True)
    # Order of the comments of one sheet (1, 2, ...): lists follow it, not ``created_at``,
    # which a caller may set to any moment.
    seq: int = Field(default=0)
    author_id: str = Field(max_length=200)
    author_name: str | None = Field(default=None, max_length=200)
    text: str
    kind: CommentKind = Field(default=CommentKind.COMMENT, sa_type=enum_string(CommentKind))
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# --- flow sessions -------------------------------------------------------------------


class FlowSession(SQLModel, table=True):
    """The persisted state of one conversation's flow.

    Invariant: at most one ``active`` session per (channel, tenant, conversation),
    enforced by a partial unique index. ``version`` grows by one on every save;
    :func:`storage.flow_sessions.save_flow_session` refuses a save based on an
    older version.
    """

    __tablename__ = "flow_session"
    __table_args__ = (
        sa.Index(
            "uq_flow_session_active_conversation",
            "channel",
            "tenant",
            "conversation",
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
        sa.Index("ix_flow_session_user", "channel", "tenant", "user_id", "updated_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    channel: str = Field(max_length=20)
    tenant: str = Field(max_length=200)
    conversation: str = Field(max_length=500)
    user_id: str = Field(max_length=200)
    flow_id: str = Field(max_length=100)
    state: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    status: FlowStatus = Field(default=FlowStatus.ACTIVE, sa_type=enum_string(FlowStatus))
    sheet_id: str | None = Field(
        default=None, foreign_key="consultation_sheet.id", max_length=36
    )
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# --- transcript and feedback ----------------------------------------------------------------


class Message(SQLModel, table=True):
    """One message of a conversation transcript.

    A question the knowledge Q&A handled is an inbound message with
    ``question=True``; ``answered`` says whether the guidelines answered it (the
    digest counts the unanswered ones). The outbound answer's ``id`` is the
    ``answer_id`` that feedback refers to.
    """

    __tablename__ = "message"
    __table_args__ = (
        sa.Index("ix_message_conversation", "channel", "tenant", "conversation", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    channel: str = Field(max_length=20)
    tenant: str = Field(max_length=200)
    conversation: str = Field(max_length=500)
    user_id: str | None = Field(default=None, max_length=200)
    direction: MessageDirection = Field(sa_type=enum_string(MessageDirection, 3))
    text: str
    question: bool = Field(default=False)
    answered: bool | None = Field(default=None)
    in_reply_to: str | None = Field(default=None, max_length=36)
    flow_session_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)


class Feedback(SQLModel, table=True):
    """👍/👎 on an answer; one row per (answer, user), the latest click wins."""

    __tablename__ = "feedback"
    __table_args__ = (sa.UniqueConstraint("answer_id", "user_id", name="uq_feedback_answer_user"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    answer_id: str = Field(max_length=36, index=True)
    user_id: str = Field(max_length=200)
    value: FeedbackValue = Field(sa_type=enum_string(FeedbackValue, 4))
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# --- audit ------------------------------------------------------------------------------------


class AuditLog(SQLModel, table=True):
    """監査ログ: one row per attempt (allowed or denied). Append-only.

    The database refuses UPDATE and DELETE (triggers), and so does the ORM.
    """

    __tablename__ = "audit_log"

    id: int | None = Field(
        default=None,
        primary_key=True,
        # SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid alias).
        sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
    )
    at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
    tenant: str | None = Field(default=None, max_length=200)
    actor: str = Field(max_length=300, index=True, description="who, e.g. slack:T1:U1")
    action: str = Field(max_length=100, index=True, description="e.g. sheet.view")
    target: str | None = Field(default=None, max_length=300)
    result: AuditResult = Field(sa_type=enum_string(AuditResult, 10))
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)


@event.listens_for(AuditLog, "before_update")
@event.listens_for(AuditLog, "before_delete")
def _refuse_audit_change(mapper: Mapper[Any], connection: sa.Connection, target: AuditLog) -> None:
    raise AppendOnlyError()


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_change(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is AuditLog:
        raise AppendOnlyError()


# --- delivery bookkeeping ---------------------------------------------------------------------


class InboundReceipt(SQLModel, table=True):
    """A delivery id already applied (Slack event_id, Teams activity id)."""

    __tablename__ = "inbound_receipt"

    key: str = Field(primary_key=True, max_length=300)
    received_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)


class DigestRun(SQLModel, table=True):
    """The weekly digest of one week for one destination, claimed by one replica."""

    __tablename__ = "digest_run"
    __table_args__ = (sa.UniqueConstraint("week", "channel", name="uq_digest_run_week_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    week: str = Field(max_length=10, description="ISO week, e.g. 2026-W47")
    channel: str = Field(max_length=100, description="destination, e.g. slack or teams")
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- people and conversations -----------------------------------------------------------------


class UserProfile(SQLModel, table=True):
    """A chat user's role and department (managed with ``soudan users``).

    A department a user declared themselves is *pending* until an administrator
    confirms it; only a confirmed department opens that department's 相談シート.
    """

    __tablename__ = "user_profile"
    __table_args__ = (
        sa.UniqueConstraint("channel", "tenant", "user_id", name="uq_user_profile_user"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    channel: str = Field(max_length=20)
    tenant: str = Field(max_length=200)
    user_id: str = Field(max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    department: str | None = Field(default=None, max_length=200)
    department_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """When an administrator confirmed ``department``; ``None``: self-declared (pending)."""
    department_confirmed_by: str | None = Field(default=None, max_length=300)
    """Who confirmed it (audit actor key, e.g. ``cli:local:<OS user>``)."""
    role: UserRole = Field(default=UserRole.STAFF, sa_type=enum_string(UserRole, 10))
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)

    @property
    def department_pending(self) -> bool:
        """A department is set but no administrator has confirmed it yet."""
        return self.department is not None and self.department_confirmed_at is None


class ConversationRef(SQLModel, table=True):
    """How to reach a conversation later (Teams ConversationReference, Slack thread)."""

    __tablename__ = "conversation_ref"
    __table_args__ = (
        sa.UniqueConstraint(
            "channel", "tenant", "conversation", name="uq_conversation_ref_conversation"
        ),
        sa.Index("ix_conversation_ref_user", "channel", "tenant", "user_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    channel: str = Field(max_length=20)
    tenant: str = Field(max_length=200)
    conversation: str = Field(max_length=500)
    user_id: str | None = Field(default=None, max_length=200)
    reference: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# --- durable inbox ------------------------------------------------------------------------------


class InboxStatus(StrEnum):
    """Where an inbound event stands (see :mod:`storage.inbox`)."""

    PENDING = "pending"
    """Stored before the channel was acknowledged; no worker holds it."""
    PROCESSING = "processing"
    """Claimed by a worker (``lease_owner``) until ``lease_until``."""
    APPLIED = "applied"
    """The turn's transaction applied it and stored the reply; the reply is being posted."""
    DONE = "done"
    """Applied (or dropped by the channel) and answered; payload and reply erased."""
    FAILED = "failed"
    """Not applied: the core refused it with a message to the user, or it kept failing."""


class InboxEvent(SQLModel, table=True):
    """One inbound channel event, written before the channel is acknowledged.

    Unique per (channel, tenant, delivery id): a redelivery adds no row. A worker
    claims a row with a lease, the turn's own transaction marks it ``applied``, and
    it is ``done`` once the reply is posted. The rows of one conversation are taken
    in ``id`` (arrival) order.
    """

    __tablename__ = "inbox_event"
    __table_args__ = (
        sa.UniqueConstraint("channel", "tenant", "delivery_id", name="uq_inbox_event_delivery"),
        sa.Index("ix_inbox_event_conversation", "channel", "tenant", "conversation", "id"),
        sa.Index("ix_inbox_event_status", "status", "lease_until"),
    )

    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
    )
    channel: str = Field(max_length=20)
    tenant: str = Field(max_length=200)
    conversation: str = Field(max_length=500)
    delivery_id: str = Field(max_length=500)
    payload: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
    """The serialized Inbound and the channel's delivery context; erased when finished."""
    reply: list[Any] | None = Field(default=None, sa_type=JSONDocument)
    """The parts the applied turn produced (posted again after a crash); erased when finished."""
    received_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    status: InboxStatus = Field(
        default=InboxStatus.PENDING, sa_type=enum_string(InboxStatus, 10)
    )
    attempts: int = Field(default=0)
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
