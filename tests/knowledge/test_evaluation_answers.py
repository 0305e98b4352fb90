"""``soudan eval``'s answer figures: an answer holds its evidence, and a miss is told as
the composer's (evidence within the passages it was given) or retrieval's."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.evaluation import EvalQuestion, evaluate_answers, format_answers
from knowledge.types import Answer, Hit, Passage


def _hit(text: str) -> Hit:
    return Hit(Passage(id=text, doc="d.md", title="T", section="1", text=text), 1.0)


class _Corpus:
    """A fake knowledge base: fixed passages and answers per question."""

    def __init__(self) -> None:
        self.passages = {
            "q1": [_hit("上限は 300 万円 とする。"), _hit("別の節。")],
            "q2": [_hit("関係のない節。"), _hit("月次報告書を毎月末に提出する。")],
            "q3": [_hit("関係のない節。")],
            "q4": [_hit("RFI を行う。")],
        }
        self.answers = {
            "q1": Answer("q1", True, "上限は300万円とする。[1]"),
            "q2": Answer("q2", True, "関係のない節。[1]"),
            "q3": Answer("q3", True, "関係のない節。[1]"),
            "q4": Answer("q4", False, "RFI を行う。"),  # declined: never counts as holding
        }

    def answer(self, question: str) -> Answer:
        return self.answers[question]

    def search(self, question: str) -> Sequence[Hit]:
        return self.passages[question]


def test_answers_holding_evidence_are_counted_per_half_and_by_reach() -> None:
    corpus = _Corpus()
    questions = [
        EvalQuestion("q1", "q1", ("300万円",)),
        EvalQuestion("q2", "q2", ("月次報告書を毎月末",)),
        EvalQuestion("q3", "q3", ("どこにもない文",)),
        EvalQuestion("q4", "q4", ("RFI を行う",)),
    ]
    split = {"tune": frozenset({"q1", "q2", "q3"}), "check": frozenset({"q4"})}
    tune, check = evaluate_answers(corpus.answer, corpus.search, questions, split)
    assert (tune.answerable, tune.holding, tune.reachable, tune.reachable_holding) == (3, 1, 2, 1)
    assert (check.answerable, check.holding, check.reachable, check.reachable_holding) == (
        1, 0, 1, 0,
    )
    table = format_answers([tune, check])
    assert "1/3" in table and "0.333" in table and "0.500" in table
