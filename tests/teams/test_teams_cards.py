"""Rendering the core's parts as Teams activities, and reading card submits back."""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity

from bot.core.messages import (
    Action,
    Choice,
    Choices,
    Citation,
    CitationList,
    FeedbackRequest,
    Form,
    FormField,
    Part,
    SheetSummary,
    Text,
)
from bot.teams.cards import render_parts
from bot.teams.inbound import to_inbound
from tests.teams.activities import button_titles, message, submit_of

SERVICE_URL = "http://127.0.0.1:9/teams/"


def card_of(activity: Activity) -> dict[str, Any]:
    [attachment] = activity.attachments
    assert attachment.content_type == "application/vnd.microsoft.card.adaptive"
    card = attachment.content
    assert card["type"] == "AdaptiveCard"
    assert tuple(int(n) for n in card["version"].split(".")) >= (1, 4)
    assert card["fallbackText"]
    assert card["fallbackText"].startswith(activity.summary)
    return card


def clicked(card: dict[str, Any], title: str, **inputs: str) -> Any:
    """The Inbound the core receives when ``title`` is pressed on ``card``."""
    inbound = to_inbound(
        Activity().deserialize(message(SERVICE_URL, value=submit_of(card, title, **inputs)))
    )
    assert inbound is not None
    return inbound


def test_an_answer_is_one_card_with_its_sources_and_feedback_buttons() -> None:
    answer: list[Part] = [
        Text("**RFI** は情報提供依頼です。\n・見積書\n・提案のコンセプト"),
        CitationList((Citation("k.md", "木更津市 ICT活用ガイドライン", "【Ⅱ. 予算】 > 1"),)),
        FeedbackRequest("answer-7"),
    ]
    [activity] = render_parts(answer)
    card = card_of(activity)

    texts = [e["text"] for e in card["body"] if e["type"] == "TextBlock"]
    assert texts[:3] == ["**RFI** は情報提供依頼です。", "・見積書", "・提案のコンセプト"]
    assert "[1] 木更津市 ICT活用ガイドライン > 【Ⅱ. 予算】 > 1" in texts
    assert button_titles(card) == ["👍 役に立った", "👎 役に立たなかった"]
    assert card["fallbackText"].startswith("**RFI** は情報提供依頼です。")
    assert activity.summary == "**RFI** は情報提供依頼です。"


def test_each_card_holds_at_most_one_interactive_part() -> None:
    submit = Action("flow.submit", "s1")
    confirm = Action("flow.answer", "submit", "s1:confirm")
    parts: list[Part] = [
        Text("内容を確認してください。"),
        SheetSummary("s1", "2026-0001", "下書き", (("対象業務", "住民票"),)),
        Form("相談シートの確認・修正", (FormField("business", "対象業務", "住民票"),), submit),
        Choices("", (Choice("この内容で確定する", confirm, "primary"),)),
        Text("続けて質問もできます。"),
    ]
    activities = render_parts(parts)

    assert len(activities) == 3
    form_card, choices_card = card_of(activities[0]), card_of(activities[1])
    assert [e["type"] for e in form_card["body"]].count("Input.Text") == 1
    assert button_titles(form_card) == ["送信"]
    assert button_titles(choices_card) == ["この内容で確定する"]
    assert activities[2].text == "続けて質問もできます。"
    assert not activities[2].attachments


def test_text_is_sent_as_markdown() -> None:
    [activity] = render_parts([Text("**結論**: 協議が必要です。"), Text("次の手順: …")])
    assert activity.type == "message"
    assert activity.text == "**結論**: 協議が必要です。\n\n次の手順: …"
    assert activity.text_format == "markdown"
    assert not activity.attachments


def test_choices_become_submit_buttons_that_come_back_as_the_same_action() -> None:
    yes = Action("flow.answer", "yes", "session-1:mandated_by_law")
    no = Action("flow.answer", "no", "session-1:mandated_by_law")
    choices = Choices(
        "法令等による導入ですか？", (Choice("はい", yes, "primary"), Choice("いいえ", no))
    )
    [activity] = render_parts([choices])
    card = card_of(activity)

    assert card["body"][0]["text"] == "法令等による導入ですか？"
    assert button_titles(card) == ["はい", "いいえ"]
    assert card["body"][1]["actions"][0]["style"] == "positive"
    assert "1. はい" in card["fallbackText"] and "2. いいえ" in card["fallbackText"]
    inbound = clicked(card, "いいえ")
    assert inbound.action == no
    assert inbound.text is None
    assert inbound.form is None


def test_many_choices_wrap_into_rows_of_five() -> None:
    options = tuple(Choice(f"選択肢{n}", Action("flow.answer", str(n), "s:step")) for n in range(7))
    card = card_of(render_parts([Choices("", options)])[0])
    assert [len(row["actions"]) for row in card["body"]] == [5, 2]
    assert button_titles(card) == [f"選択肢{n}" for n in range(7)]


def test_citations_are_small_numbered_lines() -> None:
    citations = CitationList(
        (
            Citation("kisarazu.md", "木更津市 ICT活用ガイドライン", "【Ⅰ. 検討】 > 3. 協議"),
            Citation("kisarazu.md", "木更津市 ICT活用ガイドライン", "【Ⅱ. 調達】 > 1. RFI"),
        )
    )
    card = card_of(render_parts([citations])[0])
    lines = [block["text"] for block in card["body"][1:]]
    assert lines == [
        "[1] 木更津市 ICT活用ガイドライン > 【Ⅰ. 検討】 > 3. 協議",
        "[2] 木更津市 ICT活用ガイドライン > 【Ⅱ. 調達】 > 1. RFI",
    ]
    assert all(block["size"] == "Small" for block in card["body"])
    assert lines[1] in card["fallbackText"]


def test_a_form_is_prefilled_inputs_whose_values_come_back_with_the_submit() -> None:
    submit = Action("flow.submit", "session-1")
    form = Form(
        "相談シートの確認",
        (
            FormField("business", "業務名", "住民票発行業務", required=True),
            FormField("concerns", "懸念事項", "", multiline=True),
        ),
        submit,
        "提出する",
    )
    card = card_of(render_parts([form])[0])
    inputs = {e["id"]: e for e in card["body"] if e["type"] == "Input.Text"}

    assert inputs["business"]["value"] == "住民票発行業務"
    assert inputs["business"]["isRequired"] is True
    assert inputs["concerns"]["isMultiline"] is True
    inbound = clicked(card, "提出する", business="住民票の発行", concerns="個人情報の扱い")
    assert inbound.action == submit
    assert inbound.form == {"business": "住民票の発行", "concerns": "個人情報の扱い"}


def test_a_sheet_summary_is_a_fact_set() -> None:
    summary = SheetSummary(
        "sheet-1", "2026-0001", "下書き", (("業務", "住民票発行"), ("イニシャルコスト", ""))
    )
    card = card_of(render_parts([summary])[0])

    assert card["body"][0]["text"] == "相談シート 2026-0001"
    [facts] = [e for e in card["body"] if e["type"] == "FactSet"]
    assert facts["facts"] == [
        {"title": "業務", "value": "住民票発行"},
        {"title": "イニシャルコスト", "value": "—"},
    ]
    assert "業務: 住民票発行" in card["fallbackText"]


def test_feedback_buttons_carry_the_answer_id() -> None:
    card = card_of(render_parts([FeedbackRequest("answer-42")])[0])
    assert clicked(card, "👍 役に立った").action == Action("feedback", "up", "answer-42")
    assert clicked(card, "👎 役に立たなかった").action == Action("feedback", "down", "answer-42")


def test_a_submit_from_a_card_that_is_not_ours_is_ignored() -> None:
    activity = Activity().deserialize(message(SERVICE_URL, value={"somethingElse": 1}))
    assert to_inbound(activity) is None


def test_the_user_is_the_aad_object_id_with_the_channel_id_as_fallback() -> None:
    with_aad = to_inbound(Activity().deserialize(message(SERVICE_URL, "こんにちは")))
    without = to_inbound(
        Activity().deserialize(message(SERVICE_URL, "こんにちは", user_aad_id=None))
    )
    assert with_aad is not None and with_aad.user_id == "aad-object-hanako"
    assert without is not None and without.user_id == "29:teams-user-hanako"


def test_a_field_chooser_is_a_drop_down_whose_pick_comes_back_as_the_form_input() -> None:
    from bot.core.messages import FIELD_PICK_INPUT

    pick = Action("flow.edit_field", "", "session-1:confirm")
    chooser = Form(
        "修正する項目を選ぶ",
        (FormField("business", "対象業務", "窓口予約"), FormField("initial_cost", "費用", "")),
        Action("flow.submit", "session-1", "session-1:confirm"),
        pick=pick,
    )
    card = card_of(render_parts([chooser])[0])

    assert not [e for e in card["body"] if e["type"] == "Input.Text"]
    [choice_set] = [e for e in card["body"] if e["type"] == "Input.ChoiceSet"]
    assert choice_set["id"] == FIELD_PICK_INPUT
    assert choice_set["choices"] == [
        {"title": "対象業務: 窓口予約", "value": "business"},
        {"title": "費用: —", "value": "initial_cost"},
    ]
    inbound = clicked(card, "この項目を修正する", **{FIELD_PICK_INPUT: "initial_cost"})
    assert inbound.action == pick
    assert inbound.form == {FIELD_PICK_INPUT: "initial_cost"}
