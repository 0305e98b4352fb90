"""Who is talking: names and departments from users.info."""

from __future__ import annotations

import pytest

from bot.slack.people import Person, department_in, person_from_users_info


@pytest.mark.parametrize(("title", "department"), [
    ("情報政策課 主任", "情報政策課"),
    ("総務部 情報政策課 主査", "情報政策課"),
    ("市民部市民課", "市民部市民課"),
    ("DX推進室", "DX推進室"),
    ("主任", None),
    ("", None),
])
def test_department_is_the_unit_named_in_the_title(title: str, department: str | None) -> None:
    assert department_in(title) == department


def test_display_name_prefers_the_display_name_then_the_real_name() -> None:
    assert person_from_users_info(
        {"name": "taro", "profile": {"display_name": "", "real_name": "山田 太郎",
                                     "title": "市民課"}}
    ) == Person("山田 太郎", "市民課")
    assert person_from_users_info({"name": "taro", "profile": {}}) == Person("taro", None)
