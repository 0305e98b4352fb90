"""週次ダイジェスト (the weekly digest): what departments did with 相談シート in one week.

:func:`build_digest` is pure: give it the week, the tenant's sheets and the week's
questions, get a :class:`Digest`. The week runs Monday 00:00 to Sunday 24:00
Asia/Tokyo (see :mod:`bot.review.weeks`). Rendering lives in
:mod:`bot.review.digest_render`.

Sections:
    new / submitted / returned / accepted
        sheets created, or moved into that status, during the week;
    still open
        sheets waiting for the CIO補佐 (提出済み or 確認中) at the end of the week
        (or now, for the running week);
    counts by department and by status
        over every sheet in the sections above, with its status at that moment;
    outcome groups
        for each outcome a flow file lists under ``sheet.digest``, the sheets whose
        outcome is true (e.g. 「DX推進本部会議での協議が必要」), titled from the sheet;
    initial-cost bands
        < 300万円, 300万–1000万円, ≥ 1000万円 (and 未記入), with counts and totals;
    waiting > 7 days
        open sheets last submitted more than seven days before that moment;
    unanswered questions
        questions asked in the week that the guidelines did not answer, grouped by
        text, with their count: the gaps in the guidelines. E-mail addresses,
        マイナンバー-like numbers and phone numbers in them are masked
        (:func:`storage.masking.mask_personal_data`), so every format shows them masked.

Cancelled sheets (取消) are in no section and no count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.links import SheetLink, sheet_address, sheet_link
from bot.review.records import OPEN_STATUSES, QuestionRecord
from bot.review.weeks import IsoWeek, as_utc
from storage.lifecycle import SheetStatus, status_label
from storage.masking import mask_personal_data
from storage.models import ConsultationSheet, SheetTransition
from storage.sheet_view import sheet_content
from storage.sheets import last_entered, status_at

WAITING_LIMIT = timedelta(days=7)

MAN_YEN = 10_000
COST_BANDS: tuple[tuple[str, int | None, int | None], ...] = (
    ("300万円未満", None, 300 * MAN_YEN),
    ("300万円以上1000万円未満", 300 * MAN_YEN, 1000 * MAN_YEN),
    ("1000万円以上", 1000 * MAN_YEN, None),
)
UNKNOWN_COST_BAND = "未記入"
NO_DEPARTMENT = "（部署未設定）"


@dataclass(frozen=True)
class DigestSheet:
    """One sheet as a digest line."""

    sheet_id: str
    reference: str
    department: str
    business: str
    initial_cost: int | None
    status: str
    """Japanese status label at the digest's moment."""
    link: SheetLink


@dataclass(frozen=True)
class DigestGroup:
    """Sheets whose outcome (one the flow file lists for the digest) is true."""

    title: str
    """e.g. 「DX推進本部会議での協議が必要」."""
    sheets: tuple[DigestSheet, ...]


@dataclass(frozen=True)
class WaitingSheet:
    sheet: DigestSheet
    waiting_days: int
    submitted_at: datetime


@dataclass(frozen=True)
class CostBand:
    label: str
    count: int
    total: int
    """Sum of initial costs in yen."""


@dataclass(frozen=True)
class DepartmentCount:
    department: str
    total: int
    by_status: tuple[tuple[str, int], ...]
    """(Japanese status label, count), lifecycle order, zero counts left out."""


@dataclass(frozen=True)
class QuestionGap:
    """An unanswered question and how often it was asked in the week."""

    text: str
    count: int


@dataclass(frozen=True)
class Digest:
    """The weekly digest of one tenant."""

    week: IsoWeek
    tenant: str | None
    """``None``: every tenant (a single-municipality deployment's scheduled post)."""
    start: datetime
    end: datetime
    as_of: datetime
    new: tuple[DigestSheet, ...]
    submitted: tuple[DigestSheet, ...]
    returned: tuple[DigestSheet, ...]
    accepted: tuple[DigestSheet, ...]
    still_open: tuple[DigestSheet, ...]
    by_department: tuple[DepartmentCount, ...]
    by_status: tuple[tuple[str, int], ...]
    groups: tuple[DigestGroup, ...]
    cost_bands: tuple[CostBand, ...]
    cost_total: int
    waiting: tuple[WaitingSheet, ...]
    unanswered: tuple[QuestionGap, ...]
    unanswered_count: int
    question_count: int


_STATUS_ORDER = tuple(status.value for status in SheetStatus)  # lifecycle order


def build_digest(
    week: IsoWeek,
    tenant: str | None,
    sheets: Iterable[ConsultationSheet],
    questions: Iterable[QuestionRecord],
    *,
    now: datetime,
    history: Mapping[str, Sequence[SheetTransition]] | None = None,
) -> Digest:
    """Compute the digest of ``week`` for ``tenant``.

    Args:
        week: the ISO week (Asia/Tokyo).
        tenant: only this tenant's sheets and questions are counted (``None``: all).
        sheets: candidate sheets (any week; the function picks).
        questions: candidate questions (any week; the function picks).
        now: the current time; for the running week, "still open" and "waiting"
            are judged now rather than at the end of the week.
        history: status changes by sheet id, oldest first (a sheet without any: its
            current status, and submitted when ``submitted_at`` says).

    Example:
        >>> from datetime import UTC
        >>> build_digest(IsoWeek(2026, 47), "T1", [], [], now=datetime.now(UTC)).new
        ()
    """
    start, end = week.start(), week.end()
    as_of = min(as_utc(now), end)
    def ours(item_tenant: str) -> bool:
        return tenant is None or item_tenant == tenant

    mine = sorted(
        (s for s in sheets if ours(s.tenant) and s.status != SheetStatus.CANCELLED.value),
        key=lambda s: s.reference,
    )

    changes = history or {}

    def moves(sheet: ConsultationSheet) -> Sequence[SheetTransition]:
        return changes.get(sheet.id, ())

    def entered(sheet: ConsultationSheet, status: str) -> bool:
        if moves(sheet):
            return any(t.to_status == status and week.contains(t.at) for t in moves(sheet))
        return status == SheetStatus.SUBMITTED and week.contains(sheet.submitted_at)

    def then(sheet: ConsultationSheet) -> str:
        """Its status at ``as_of`` (its status now if it did not exist yet)."""
        return status_at(sheet, moves(sheet), as_of) or SheetStatus(sheet.status).value

    def line(sheet: ConsultationSheet) -> DigestSheet:
        return _line(sheet, then(sheet))

    new = [s for s in mine if week.contains(s.created_at)]
    submitted = [s for s in mine if entered(s, SheetStatus.SUBMITTED)]
    returned = [s for s in mine if entered(s, SheetStatus.RETURNED)]
    accepted = [s for s in mine if entered(s, SheetStatus.ACCEPTED)]
    still_open = [s for s in mine if status_at(s, moves(s), as_of) in OPEN_STATUSES]

    involved: dict[str, ConsultationSheet] = {}
    for group in (new, submitted, returned, accepted, still_open):
        for sheet in group:
            involved.setdefault(sheet.id, sheet)
    everyone = sorted(involved.values(), key=lambda s: s.reference)

    waiting: list[WaitingSheet] = []
    for sheet in still_open:
        since = last_entered(moves(sheet), SheetStatus.SUBMITTED, as_of) or sheet.submitted_at
        if since is not None and as_of - since > WAITING_LIMIT:
            waiting.append(WaitingSheet(line(sheet), (as_of - since).days, since))
    waiting.sort(key=lambda w: w.submitted_at)

    unanswered_texts = [
        " ".join(mask_personal_data(q.text).split())
        for q in questions
        if ours(q.tenant) and week.contains(q.asked_at) and q.unanswered
    ]
    asked = sum(1 for q in questions if ours(q.tenant) and week.contains(q.asked_at))
    gaps = Counter(unanswered_texts)

    bands = _cost_bands(everyone)
    return Digest(
        week=week,
        tenant=tenant,
        start=start,
        end=end,
        as_of=as_of,
        new=tuple(line(s) for s in new),
        submitted=tuple(line(s) for s in submitted),
        returned=tuple(line(s) for s in returned),
        accepted=tuple(line(s) for s in accepted),
        still_open=tuple(line(s) for s in still_open),
        by_department=_by_department(everyone, then),
        by_status=_by_status(everyone, then),
        groups=_groups(everyone, line),
        cost_bands=bands,
        cost_total=sum(band.total for band in bands),
        waiting=tuple(waiting),
        unanswered=tuple(
            QuestionGap(text, count)
            for text, count in sorted(gaps.items(), key=lambda item: (-item[1], item[0]))
        ),
        unanswered_count=len(unanswered_texts),
        question_count=asked,
    )


def _line(sheet: ConsultationSheet, status: str) -> DigestSheet:
    return DigestSheet(
        sheet_id=sheet.id,
        reference=sheet.reference,
        department=sheet.department or NO_DEPARTMENT,
        business=sheet.business,
        initial_cost=sheet.initial_cost,
        status=status_label(status),
        link=sheet_link(sheet.reference, sheet_address(sheet)),
    )


def _groups(
    sheets: list[ConsultationSheet], line: Callable[[ConsultationSheet], DigestSheet]
) -> tuple[DigestGroup, ...]:
    grouped: dict[str, list[DigestSheet]] = {}
    for sheet in sheets:
        for title in sheet_content(sheet.sections).digest_groups:
            grouped.setdefault(title, []).append(line(sheet))
    return tuple(DigestGroup(title, tuple(lines)) for title, lines in grouped.items())


def cost_band(initial_cost: int | None) -> str:
    """The band label of an initial cost in yen.

    Example:
        >>> cost_band(3_000_000)
        '300万円以上1000万円未満'
    """
    if initial_cost is None:
        return UNKNOWN_COST_BAND
    for label, low, high in COST_BANDS:
        if (low is None or initial_cost >= low) and (high is None or initial_cost < high):
            return label
    raise AssertionError("cost bands cover every amount")  # pragma: no cover


def _cost_bands(sheets: list[ConsultationSheet]) -> tuple[CostBand, ...]:
    counts: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for sheet in sheets:
        band = cost_band(sheet.initial_cost)
        counts[band] += 1
        totals[band] += sheet.initial_cost or 0
    labels = [label for label, _, _ in COST_BANDS] + [UNKNOWN_COST_BAND]
    return tuple(CostBand(label, counts[label], totals[label]) for label in labels)


def _by_status(
    sheets: list[ConsultationSheet], then: Callable[[ConsultationSheet], str]
) -> tuple[tuple[str, int], ...]:
    counts = Counter(then(sheet) for sheet in sheets)
    return tuple((status_label(s), counts[s]) for s in _STATUS_ORDER if counts[s])


def _by_department(
    sheets: list[ConsultationSheet], then: Callable[[ConsultationSheet], str]
) -> tuple[DepartmentCount, ...]:
    grouped: dict[str, Counter[str]] = {}
    for sheet in sheets:
        department = sheet.department or NO_DEPARTMENT
        grouped.setdefault(department, Counter())[then(sheet)] += 1
    return tuple(
        DepartmentCount(
            department=department,
            total=sum(counts.values()),
            by_status=tuple((status_label(s), counts[s]) for s in _STATUS_ORDER if counts[s]),
        )
        for department, counts in sorted(grouped.items())
    )
