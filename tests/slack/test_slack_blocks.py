"""Block Kit rendering: shapes Slack accepts, and round trips of button values."""

from __future__ import annotations

import json

import pytest

from bot.core.commands import Command, command_words, parse_command
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
from bot.slack.action_values import decode_action, encode_action
from bot.slack.blocks import (
    form_values,
    mark_clicked,
    render_form_opener,
    render_home,
    render_messages,
    render_modal,
    to_mrkdwn,
)
from bot.slack.payloads import command_text


def test_markdown_becomes_slack_mrkdwn_with_control_characters_escaped() -> None:
    assert to_mrkdwn("**300万円以上** <b> & ok") == "*300万円以上* &lt;b&gt; &amp; ok"
    assert to_mrkdwn("## 結論\n本文") == "*結論*\n本文"


def test_an_answer_renders_text_citations_and_feedback_in_one_message() -> None:
    parts: list[Part] = [
        Text("回答です。"),
        CitationList((Citation("a.md", "木更津市 ICT活用ガイドライン", "【Ⅰ】 > 3. 協議"),
                      Citation("b.md", "RFI 手引き", ""))),
        FeedbackRequest("ans-9"),
    ]

    [message] = render_messages(parts)

    assert message.text == "回答です。"
    context = message.blocks[1]
    assert [e["text"] for e in context["elements"]] == [
        "[1] 木更津市 ICT活用ガイドライン &gt; 【Ⅰ】 &gt; 3. 協議", "[2] RFI 手引き"]
    buttons = message.blocks[2]["elements"]
    assert [decode_action(b["value"]) for b in buttons] == [
        Action("feedback", "up", "ans-9"), Action("feedback", "down", "ans-9")]
    assert len({b["action_id"] for b in buttons}) == 2


def test_slack_limits_are_respected() -> None:
    long_text = Text("あ" * 7000)
    many = Choices("選んでください", tuple(
        Choice(f"選択肢{i}" * 10, Action("flow.answer", str(i), "s:q")) for i in range(30)))
    sheet = SheetSummary("s", "R-1", "下書き", tuple((f"項目{i}", "値") for i in range(13)))

    parts: list[Part] = [long_text, many, sheet, *[Text("段落")] * 60]
    messages = render_messages(parts)

    for message in messages:
        assert len(message.blocks) <= 50
        for block in message.blocks:
            if block["type"] == "section" and "text" in block:
                assert len(block["text"]["text"]) <= 3000
            if block["type"] == "actions":
                assert len(block["elements"]) <= 25
                assert all(len(e["text"]["text"]) <= 75 for e in block["elements"])
            assert len(block.get("fields", [])) <= 10
    everything = [b for m in messages for b in m.blocks]
    ids = [e["action_id"] for b in everything if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == len(set(ids)) == 30
    body = "".join(b["text"]["text"] for b in everything if b["type"] == "section" and "text" in b)
    assert body.count("あ") == 7000


def test_a_form_becomes_a_modal_and_its_submission_is_read_back() -> None:
    form = Form("相談シートの確認（長いタイトルは切り詰められます）", (
        FormField("business", "業務名", "窓口予約", required=True),
        FormField("notes", "その他", "", multiline=True),
    ), Action("flow.submit", "s1"), submit_label="提出する")

    view = render_modal(form, private_metadata="{}")

    assert len(view["title"]["text"]) <= 24
    assert view["submit"]["text"] == "提出する"
    business, notes = view["blocks"]
    assert (business["optional"], business["element"]["initial_value"]) == (False, "窓口予約")
    assert (notes["optional"], notes["element"]["multiline"]) == (True, True)
    assert "initial_value" not in notes["element"]
    state = {"values": {"business": {"value": {"value": "電子申請"}},
                        "notes": {"value": {"value": None}}}}
    assert form_values(state) == {"business": "電子申請", "notes": ""}


def test_form_opener_carries_the_reopen_action_the_core_set() -> None:
    reopen = Action("flow.show_form", "sess-1", "sess-1:confirm")
    opener = render_form_opener(Form("確認", (), Action("flow.submit", "sess-1"), reopen=reopen))

    [button] = opener.blocks[-1]["elements"]
    assert decode_action(button["value"]) == reopen
    assert button["text"]["text"] == "確認画面を開く"


def test_a_form_without_reopen_is_shown_as_text_and_no_action_is_made_up() -> None:
    form = Form("相談シートの確認", (
        FormField("business", "業務名", "窓口予約 <注>"),
        FormField("notes", "その他", ""),
        *(FormField(f"f{i}", f"項目{i}", "値") for i in range(12)),
    ), Action("flow.submit", "sess-1"))

    stand_in = render_form_opener(form)

    assert [b for b in stand_in.blocks if b["type"] == "actions"] == []
    assert "ここでは入力画面を開けません" in stand_in.text
    fields = [f["text"] for b in stand_in.blocks for f in b.get("fields", [])]
    assert fields[:2] == ["*業務名*\n窓口予約 &lt;注&gt;", "*その他*\n—"]
    assert len(fields) == 14
    assert all(len(b.get("fields", [])) <= 10 for b in stand_in.blocks)


def test_choice_click_replaces_the_buttons_with_the_chosen_label() -> None:
    [message] = render_messages([Choices("はい/いいえ", (
        Choice("はい", Action("flow.answer", "yes", "s:q")),
        Choice("いいえ", Action("flow.answer", "no", "s:q"))))])
    actions = message.blocks[-1]

    marked = mark_clicked(message.blocks, block_id=actions["block_id"],
                          clicked=actions["elements"][1]["action_id"])

    assert marked[-1] == {"type": "context",
                          "elements": [{"type": "mrkdwn", "text": "✅ いいえ"}]}


def test_home_without_sheets_says_how_to_start() -> None:
    view = render_home([])

    assert view["type"] == "home"
    assert "/soudan 相談" in json.dumps(view, ensure_ascii=False)


def test_button_values_reject_what_this_app_did_not_write() -> None:
    with pytest.raises(ValueError):
        decode_action("yes")
    with pytest.raises(ValueError):
        encode_action(Action("flow.answer", "x" * 2100))


@pytest.mark.parametrize(("typed", "said"), [
    ("相談", "相談を始める"),
    ("質問 RFI は必要？", "RFI は必要？"),
    ("ヘルプ", "ヘルプ"),
    ("", "ヘルプ"),
    ("レビュー", "レビュー"),
    ("ダイジェスト", "ダイジェスト"),
    ("300万円以上は協議が必要？", "300万円以上は協議が必要？"),
])
def test_slash_command_words(typed: str, said: str) -> None:
    assert command_text(typed) == said


@pytest.mark.parametrize("command", list(Command))
def test_every_core_command_word_after_soudan_reads_as_that_command(command: Command) -> None:
    for word in command_words(command):
        assert parse_command(command_text(word)) is command, word


def test_a_field_chooser_is_a_select_menu_in_the_message_not_a_modal() -> None:
    from bot.slack.blocks import FIELD_PICK_BLOCK_PREFIX, forms_of, picked_action

    ref = "0f6b3c3e-7a51-4d0f-9a57-2f6f3f1c9e11:confirm"
    chooser = Form(
        "修正する項目を選ぶ",
        (FormField("business", "対象業務", "窓口予約"), FormField("initial_cost", "費用", "x" * 90)),
        Action("flow.submit", "s1", ref),
        pick=Action("flow.edit_field", "", ref),
    )
    assert forms_of([chooser]) == []
    [message] = render_messages([Text("確認してください"), chooser])
    [menu_block] = [b for b in message.blocks if b["type"] == "actions"]
    assert menu_block["block_id"].startswith(FIELD_PICK_BLOCK_PREFIX)
    assert len(menu_block["block_id"]) <= 255
    [menu] = menu_block["elements"]
    assert menu["type"] == "static_select"
    assert [o["value"] for o in menu["options"]] == ["business", "initial_cost"]
    assert all(len(o["text"]["text"]) <= 75 for o in menu["options"])
    assert picked_action(menu_block["block_id"], "initial_cost") == chooser.picked("initial_cost")
    # A pick leaves the menu in place: a modal closed without saving can be picked again.
    assert mark_clicked(message.blocks, block_id=menu_block["block_id"],
                        clicked=menu["action_id"]) == message.blocks


def test_a_pick_in_the_select_menu_becomes_the_cores_edit_action() -> None:
    from bot.slack.payloads import turn_from_click

    ref = "s1:confirm"
    chooser = Form("修正する項目を選ぶ", (FormField("business", "対象業務", "窓口予約"),),
                   Action("flow.submit", "s1", ref), pick=Action("flow.edit_field", "", ref))
    [message] = render_messages([chooser])
    [block] = [b for b in message.blocks if b["type"] == "actions"]
    [menu] = block["elements"]
    body = {
        "type": "block_actions", "user": {"id": "U1", "team_id": "T1"}, "trigger_id": "trig.1",
        "channel": {"id": "D1"},
        "message": {"ts": "1.1", "text": message.text, "blocks": message.blocks},
        "actions": [{"action_id": menu["action_id"], "block_id": block["block_id"],
                     "type": "static_select", "selected_option": menu["options"][0],
                     "action_ts": "2.2"}],
    }
    turn = turn_from_click(body, tenant="T1")
    assert turn.action == Action("flow.edit_field", "business", ref)
    assert turn.trigger_id == "trig.1"
