"""``soudan eval-spec``: the review's judgements against hand-labelled draft 仕様書.

A folder holds drafts and ``labels.yaml``::

    drafts:
      01_complete.md:
        method: proposal                      # proposal / bid / unknown
        items: {target: present, period: weak, place: missing, ...}
        flags: [sla, security]                # the findings the review must raise
      08_scanned.pdf:
        refused: true                         # must be refused with a reason
    same_as:                                  # other formats of a labelled draft
      01_complete.docx: 01_complete.md

Per status (present / weak / missing) precision and recall over every (draft, item);
precision and recall of the findings; accuracy of the procurement method; refusals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.documents import DocumentError
from knowledge.spec_review import SpecReviewer, read_draft

STATUSES = ("present", "weak", "missing")


@dataclass
class SpecEvaluation:
    """Counts and errors of one evaluation run."""

    drafts: int = 0
    judged: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(label, predicted) -> count over every (draft, item)."""
    flags_tp: int = 0
    flags_fp: int = 0
    flags_fn: int = 0
    methods_right: int = 0
    refusals_expected: int = 0
    refusals_right: int = 0
    errors: list[str] = field(default_factory=list)

    def precision(self, status: str) -> float:
        predicted = sum(n for (_, p), n in self.confusion.items() if p == status)
        return self.confusion[(status, status)] / predicted if predicted else 1.0

    def recall(self, status: str) -> float:
        labelled = sum(n for (lab, _), n in self.confusion.items() if lab == status)
        return self.confusion[(status, status)] / labelled if labelled else 1.0

    @property
    def flags_precision(self) -> float:
        raised = self.flags_tp + self.flags_fp
        return self.flags_tp / raised if raised else 1.0

    @property
    def flags_recall(self) -> float:
        expected = self.flags_tp + self.flags_fn
        return self.flags_tp / expected if expected else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "drafts": self.drafts,
            "items_judged": self.judged,
            **{f"{s}_precision": round(self.precision(s), 3) for s in STATUSES},
            **{f"{s}_recall": round(self.recall(s), 3) for s in STATUSES},
            "flags_precision": round(self.flags_precision, 3),
            "flags_recall": round(self.flags_recall, 3),
            "method_accuracy": round(self.methods_right / max(self.judged_drafts, 1), 3),
            "refusals": f"{self.refusals_right}/{self.refusals_expected}",
            "errors": self.errors,
        }

    @property
    def judged_drafts(self) -> int:
        return self.drafts - self.refusals_expected


def evaluate(reviewer: SpecReviewer, folder: Path, *, max_bytes: int) -> SpecEvaluation:
    """Review every labelled draft in ``folder`` and compare with its labels."""
    data = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8"))
    labels: dict[str, dict[str, Any]] = dict(data["drafts"])
    for copy, source in (data.get("same_as") or {}).items():
        labels[copy] = labels[source]
    result = SpecEvaluation()
    for name, label in labels.items():
        result.drafts += 1
        try:
            document = read_draft(folder / name, max_bytes=max_bytes)
        except DocumentError as error:
            if label.get("refused"):
                result.refusals_expected += 1
                result.refusals_right += 1
            else:
                result.errors.append(f"{name}: 読めませんでした: {error.reason}")
            continue
        if label.get("refused"):
            result.refusals_expected += 1
            result.errors.append(f"{name}: 読めないはずの文書を読みました")
            continue
        review = reviewer.review(document)
        if review.method == label.get("method", "unknown"):
            result.methods_right += 1
        else:
            result.errors.append(f"{name}: 調達方法 {review.method}（正解 {label.get('method')}）")
        for judgement in review.items:
            expected = label["items"][judgement.item.id]
            result.judged += 1
            result.confusion[(expected, judgement.status)] += 1
            if expected != judgement.status:
                result.errors.append(
                    f"{name}: {judgement.item.label} {judgement.status}（正解 {expected}）"
                )
        raised = {f.check for f in review.findings}
        wanted = set(label.get("flags") or ())
        result.flags_tp += len(raised & wanted)
        result.flags_fp += len(raised - wanted)
        result.flags_fn += len(wanted - raised)
        for check in sorted(raised - wanted):
            result.errors.append(f"{name}: 余分な指摘 {check}")
        for check in sorted(wanted - raised):
            result.errors.append(f"{name}: 指摘漏れ {check}")
    return result
