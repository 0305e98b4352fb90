"""The present / weak rules on a matched passage, without the model: deferring sentences,
dates for 実施期間, measurable numbers for サービス水準."""

from __future__ import annotations

import pytest

from knowledge.spec_review import _judge
from knowledge.spec_review_checklist import load_checklist
from knowledge.types import Passage

ITEMS = {item.id: item for item in load_checklist().items}


def passage(heading: str, body: str) -> Passage:
    return Passage(id="d-0000", doc="draft.md", title="draft.md", section=heading,
                   text=f"{heading}\n{body}")


@pytest.mark.parametrize(
    ("item", "body", "status"),
    [
        ("period", "令和9年4月1日から令和10年3月31日まで。", "present"),
        ("period", "2027年4月から12か月間とする。", "present"),
        ("period", "契約締結日から1年間とする。", "weak"),  # no date
        ("period", "別途協議のうえ定める。", "weak"),
        ("service_level", "稼働率は月間 99.5% 以上とする。", "present"),
        ("service_level", "障害時は 2 時間以内に到着すること。", "present"),
        ("service_level", "高い可用性を確保し、迅速に復旧すること。", "weak"),  # no number
        ("service_level", "適切なサービス水準を維持すること。", "weak"),
        ("organization", "十分な体制を確保すること。", "weak"),
        ("organization", "責任者 1 名を置き、体制表を提出する。必要に応じて増員する。", "present"),
        ("other", "その他必要な事項は別途協議する。", "weak"),
        ("best_effort", "受託者は、回答精度の向上に努めるものとする。", "present"),
    ],
)
def test_judgement_of_a_matched_passage(item: str, body: str, status: str) -> None:
    judgement = _judge(ITEMS[item], [(passage("5. 見出し", body), 0.9)])
    assert judgement.status == status
    assert (judgement.reason == "") is (status == "present")
    assert judgement.section == "5. 見出し" and judgement.excerpt == body.replace("\n", " ")


def test_an_item_no_passage_went_to_is_missing() -> None:
    judgement = _judge(ITEMS["place"], [])
    assert judgement.status == "missing" and judgement.excerpt == ""
