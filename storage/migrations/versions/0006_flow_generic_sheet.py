"""flow-generic 相談シート: ``sections`` JSON, the ``sheet_outcome`` table, ICT-only columns gone.

A sheet used to have columns for one flow's answers (``current_problem``,
``envisaged_ict``, ``running_cost``, ``concerns``, ``personal_info``) and a flat
``decisions`` list. It now stores one *section* per flow run on it, with every
answer's label, kind and text and every outcome's label, value word and citations
(:mod:`flows.sheet_section`), and mirrors ``outcomes`` into ``sheet_outcome``
(sheet id, name, value; indexed on name and value) for reports.

Existing sheets are carried over without loss: their ``slots`` become answers,
labelled and typed from the flow file the sheet was made with (when it is still
installed), their ``decisions`` become the section's decisions; a value that only
sat in one of the dropped columns becomes an answer labelled as that column was.
Downgrade puts the columns back from the sections.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The dropped columns as the old schema labelled them (frozen with this revision).
_LEGACY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("current_problem", "現状の課題", "text"),
    ("envisaged_ict", "想定している ICT", "text"),
    ("running_cost", "ランニングコスト（年額）", "money"),
    ("concerns", "懸念事項", "text"),
    ("personal_info", "個人情報の取扱い", "text"),
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _flows() -> dict[str, Any]:
    """The installed flow definitions (labels and kinds), or none when they cannot load."""
    try:
        from flows.loader import load_flows

        return dict(load_flows())
    except Exception:  # a broken flow file must not stop the migration
        return {}


def _section(row: Any, flows: dict[str, Any]) -> dict[str, Any]:
    from flows.answer_reading import display_value
    from flows.sheet_section import cite_record

    slots: dict[str, Any] = _json(row.slots) or {}
    outcomes: dict[str, Any] = _json(row.outcomes) or {}
    decisions_in: list[Any] = _json(row.decisions) or []
    flow = flows.get(row.flow_id or "")
    answers: list[dict[str, Any]] = []
    for name, value in slots.items():
        steps = flow.steps_for_slot(name) if flow is not None else []
        if steps:
            step = steps[0]
            label, kind, text = step.label, step.kind.value, display_value(step, value)
        else:
            label, kind, text = name, "text", "" if value is None else str(value)
        answers.append({"slot": name, "label": label, "kind": kind, "value": value, "text": text})
    if flow is not None:
        order = {slot: index for index, slot in enumerate(flow.slots)}
        answers.sort(key=lambda a: order.get(a["slot"], len(order)))
    covered = {a["slot"] for a in answers}
    for column, label, kind in _LEGACY_COLUMNS:
        value = getattr(row, column)
        if value is None or value == "" or column in covered:
            continue
        if column == "personal_info" and "personal_information" in covered:
            continue
        text = f"{value:,}円" if kind == "money" and isinstance(value, int) else str(value)
        answers.append({"slot": column, "label": label, "kind": kind, "value": value, "text": text})
    decisions = []
    for record in decisions_in:
        if not isinstance(record, dict):
            continue
        outcome = flow.outcome(str(record.get("name"))) if flow is not None else None
        value = bool(record.get("value"))
        cites = [c for c in record.get("cites") or [] if isinstance(c, dict)]
        if outcome is not None:
            titles = {c.doc: c.title for c in outcome.cites}
            cites = [{**c, "title": c.get("title") or titles.get(c.get("doc"), "")} for c in cites]
            if not cites:
                cites = [cite_record(c) for c in outcome.cites]
        decisions.append({
            "name": record.get("name"),
            "label": record.get("label") or (outcome.label if outcome else record.get("name")),
            "kind": record.get("kind") or (outcome.kind if outcome else "decision"),
            "value": value,
            "value_label": outcome.value_label(value) if outcome else ("該当" if value else "非該当"),
            "statement": record.get("statement") or "",
            "digest": bool(flow is not None and outcome is not None and outcome.name in flow.sheet.digest),
            "cites": cites,
        })
    return {
        "flow": row.flow_id,
        "title": flow.title if flow is not None else "",
        "answers": answers,
        "decisions": decisions,
        "outcomes": {k: v for k, v in outcomes.items() if isinstance(v, bool)},
        "subject": row.business or None,
        "cost": row.initial_cost,
    }


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def upgrade() -> None:
    # No table rebuild: on SQLite a rebuild of a table other tables refer to fails
    # while foreign keys are enforced. ADD / DROP COLUMN (SQLite >= 3.35) need none.
    with op.batch_alter_table("consultation_sheet", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("sections", _JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_sheet_initial_cost"), ["initial_cost"], unique=False
        )
    op.create_table(
        "sheet_outcome",
        sa.Column("sheet_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["sheet_id"], ["consultation_sheet.id"]),
        sa.PrimaryKeyConstraint("sheet_id", "name"),
    )
    with op.batch_alter_table("sheet_outcome", schema=None) as batch_op:
        batch_op.create_index("ix_sheet_outcome_name_value", ["name", "value"], unique=False)

    connection = op.get_bind()
    sheet = sa.table(
        "consultation_sheet",
        sa.column("id", sa.String()),
        sa.column("flow_id", sa.String()),
        sa.column("business", sa.String()),
        sa.column("initial_cost", sa.BigInteger()),
        sa.column("slots", _JSON),
        sa.column("outcomes", _JSON),
        sa.column("decisions", _JSON),
        sa.column("sections", _JSON),
        *(sa.column(name) for name, _, _ in _LEGACY_COLUMNS),
    )
    outcome_table = sa.table(
        "sheet_outcome",
        sa.column("sheet_id", sa.String()),
        sa.column("name", sa.String()),
        sa.column("value", sa.Boolean()),
    )
    flows = _flows()
    for row in connection.execute(sa.select(sheet)).all():
        section = _section(row, flows)
        has_content = section["answers"] or section["decisions"]
        connection.execute(
            sa.update(sheet)
            .where(sheet.c.id == row.id)
            .values(sections=[section] if has_content else [])
        )
        for name, value in section["outcomes"].items():
            connection.execute(
                sa.insert(outcome_table).values(sheet_id=row.id, name=name, value=value)
            )

    with op.batch_alter_table("consultation_sheet", schema=None, recreate="never") as batch_op:
        for name, _, _ in _LEGACY_COLUMNS:
            batch_op.drop_column(name)
        batch_op.drop_column("decisions")


def downgrade() -> None:
    with op.batch_alter_table("consultation_sheet", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("current_problem", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("envisaged_ict", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("running_cost", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("concerns", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("personal_info", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column("decisions", _JSON, nullable=False, server_default=sa.text("'[]'"))
        )
    connection = op.get_bind()
    sheet = sa.table(
        "consultation_sheet",
        sa.column("id", sa.String()),
        sa.column("sections", _JSON),
        sa.column("decisions", _JSON),
        *(sa.column(name) for name, _, _ in _LEGACY_COLUMNS),
    )
    for row in connection.execute(sa.select(sheet.c.id, sheet.c.sections)).all():
        sections = _json(row.sections) or []
        values: dict[str, Any] = {"decisions": []}
        for section in sections:
            for answer in section.get("answers", []):
                slot = answer.get("slot")
                if slot == "personal_information":
                    values["personal_info"] = "あり" if answer.get("value") else "なし"
                elif slot in {name for name, _, _ in _LEGACY_COLUMNS}:
                    values[slot] = _jsonable(answer.get("value"))
            values["decisions"] += [
                {k: d.get(k) for k in ("name", "label", "kind", "value", "statement", "cites")}
                for d in section.get("decisions", [])
            ]
        connection.execute(sa.update(sheet).where(sheet.c.id == row.id).values(**values))
    with op.batch_alter_table("consultation_sheet", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("sections")
        batch_op.drop_index(batch_op.f("ix_consultation_sheet_initial_cost"))
    with op.batch_alter_table("sheet_outcome", schema=None) as batch_op:
        batch_op.drop_index("ix_sheet_outcome_name_value")
    op.drop_table("sheet_outcome")
