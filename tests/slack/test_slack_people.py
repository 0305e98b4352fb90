"""Who is talking: display names from users.info, cached; departments never from Slack."""

from __future__ import annotations

from bot.slack.people import display_name_in
from storage import Database, get_user_profile, upsert_user_profile


def test_display_name_prefers_the_display_name_then_the_real_name_then_the_handle() -> None:
    assert display_name_in({"name": "taro", "profile": {
        "display_name": "", "real_name": "山田 太郎", "title": "市民課"}}) == "山田 太郎"
    assert display_name_in({"name": "taro", "profile": {"display_name": "たろう"}}) == "たろう"
    assert display_name_in({"name": "taro", "profile": {}}) == "taro"
    assert display_name_in({}) is None


def test_a_new_user_gets_a_name_and_no_department(sqlite_database: Database) -> None:
    with sqlite_database.session() as session:  # what the core does with the turn's name
        upsert_user_profile(session=session, channel="slack", tenant="T1", user_id="U2",
                            display_name="佐藤")

    with sqlite_database.session() as session:
        profile = get_user_profile(session=session, channel="slack", tenant="T1", user_id="U2")
    assert profile is not None
    assert (profile.display_name, profile.department) == ("佐藤", None)
