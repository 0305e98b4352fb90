"""The 仕様書 checklist as data: ``spec_review_checklist.yaml`` loaded into small dataclasses.

The items are the main contents of a 仕様書 listed in 木更津市 ICT活用ガイドライン
【Ⅲ.調達】 1; the checks are the further findings a review raises (evaluation criteria,
proposal vs competitive bid, SLA, 個人情報, セキュリティ). Every item and check carries the
clause it rests on. A broken file fails at load with a Japanese message.

Example:
    >>> checklist = load_checklist()
    >>> checklist.items[0].label
    '業務の対象'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CHECKLIST_PATH = Path(__file__).with_name("spec_review_checklist.yaml")
EVIDENCE_KINDS = ("text", "period", "measure")
CHECK_IDS = (
    "evaluation_measurable",
    "proposal_overfixed",
    "bid_level_unstated",
    "sla",
    "personal_information",
    "security",
)
"""The checks the reviewer implements; the file must describe each of them."""


class ChecklistError(ValueError):
    """The checklist file is unusable; the message is Japanese and names the place."""


@dataclass(frozen=True)
class ClauseCite:
    """A guideline clause: document file, section path and a verbatim quote."""

    doc: str
    section: str
    quote: str
    title: str = ""


@dataclass(frozen=True)
class ChecklistItem:
    """One required item of the 仕様書 (e.g. 実施期間)."""

    id: str
    number: int
    label: str
    describes: str
    evidence: str
    cites: tuple[ClauseCite, ...]


@dataclass(frozen=True)
class CheckRule:
    """One further check: its label, message, describing text and clauses."""

    id: str
    label: str
    message: str
    cites: tuple[ClauseCite, ...]
    describes: str = ""
    terms: tuple[str, ...] = ()
    critical_message: str = ""
    critical_terms: tuple[str, ...] = ()
    critical_cites: tuple[ClauseCite, ...] = ()


@dataclass(frozen=True)
class Topic:
    """A section a 仕様書 often has that is no checklist item (a comparison class)."""

    id: str
    describes: str


@dataclass(frozen=True)
class SpecChecklist:
    """The whole checklist."""

    documents: dict[str, str]
    items: tuple[ChecklistItem, ...]
    checks: dict[str, CheckRule]
    other_topics: tuple[Topic, ...]


def load_checklist(path: Path = CHECKLIST_PATH) -> SpecChecklist:
    """Read and validate the checklist YAML.

    Raises:
        ChecklistError: unreadable file, missing field, unknown document, bad evidence kind.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ChecklistError(f"チェックリスト {path.name} を読めません: {error}") from error
    if not isinstance(data, dict):
        raise ChecklistError(f"チェックリスト {path.name} の形式が正しくありません。")
    documents = _mapping(data, "documents", path.name)
    titles = {str(k): str(v) for k, v in documents.items()}
    items = []
    seen: set[str] = set()
    for number, raw in enumerate(_list(data, "items", path.name), start=1):
        where = f"{path.name} の items の {number} 番目"
        item_id = _text(raw, "id", where)
        if item_id in seen:
            raise ChecklistError(f"{where}: id「{item_id}」が重複しています。")
        seen.add(item_id)
        evidence = str(raw.get("evidence", "text"))
        if evidence not in EVIDENCE_KINDS:
            raise ChecklistError(
                f"{where}: evidence は {' / '.join(EVIDENCE_KINDS)} のどれかにしてください。"
            )
        items.append(
            ChecklistItem(
                id=item_id, number=number, label=_text(raw, "label", where),
                describes=_text(raw, "describes", where), evidence=evidence,
                cites=_cites(raw.get("cite"), titles, where, required=True),
            )
        )
    raw_checks = _mapping(data, "checks", path.name)
    checks: dict[str, CheckRule] = {}
    for check_id in CHECK_IDS:
        found = raw_checks.get(check_id)
        where = f"{path.name} の checks の {check_id}"
        if not isinstance(found, dict):
            raise ChecklistError(f"{where} がありません。")
        raw = found
        checks[check_id] = CheckRule(
            id=check_id, label=_text(raw, "label", where), message=_text(raw, "message", where),
            cites=_cites(raw.get("cite"), titles, where, required=True),
            describes=str(raw.get("describes", "")), terms=_strings(raw.get("terms")),
            critical_message=str(raw.get("critical_message", "")),
            critical_terms=_strings(raw.get("critical_terms")),
            critical_cites=_cites(raw.get("critical_cite"), titles, where, required=False),
        )
    topics = tuple(
        Topic(id=_text(raw, "id", f"{path.name} の other_topics"),
              describes=_text(raw, "describes", f"{path.name} の other_topics"))
        for raw in data.get("other_topics") or ()
    )
    return SpecChecklist(titles, tuple(items), checks, topics)


def _mapping(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ChecklistError(f"{where}: 「{key}」（名前: 値 の対応）がありません。")
    return value


def _list(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value) or not value:
        raise ChecklistError(f"{where}: 「{key}」（項目のリスト）がありません。")
    return value


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ChecklistError(f"{where}: 「{key}」を書いてください。")
    return value.strip()


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _cites(
    value: object, titles: dict[str, str], where: str, *, required: bool
) -> tuple[ClauseCite, ...]:
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not value:
        raise ChecklistError(f"{where}: 根拠の条文（cite）を書いてください。")
    cites = []
    for raw in value:
        if not isinstance(raw, dict):
            raise ChecklistError(f"{where}: cite は doc / section / quote の組にしてください。")
        doc = _text(raw, "doc", where)
        if doc not in titles:
            raise ChecklistError(f"{where}: 文書「{doc}」が documents にありません。")
        cites.append(
            ClauseCite(doc=doc, section=_text(raw, "section", where),
                       quote=_text(raw, "quote", where), title=titles[doc])
        )
    return tuple(cites)
