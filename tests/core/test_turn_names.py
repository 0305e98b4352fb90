"""The sender's display name: the core reads the recorded one inside the turn, and asks
the channel (``Inbound.find_name``, Slack's ``users.info``) only while none is recorded,
outside its transaction; the core is the one writer of the name."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

import storage
from bot.core.messages import Inbound
from bot.settings import Settings
from bot.wiring import Services, build_services
from tests.teams.fakes import GuidelineExcerpts


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build_services(Settings(_env_file=None, data_dir=tmp_path / "data"),
                           knowledge=GuidelineExcerpts())  # type: ignore[arg-type]
    yield built
    built.database.dispose()


class Finder:
    """A channel's name look-up that counts its calls and proves it runs outside the
    core's transaction (on SQLite a second session in the same thread is refused)."""

    def __init__(self, services: Services, name: str | None) -> None:
        self.services = services
        self.name = name
        self.calls = 0

    def __call__(self) -> str | None:
        self.calls += 1
        with self.services.database.session():
            pass  # NestedSessionError if the core still held its session here
        return self.name


def _turn(services: Services, finder: Finder, text: str, n: int) -> Sequence[Any]:
    inbound = Inbound(channel="slack", tenant="T1", conversation=f"D1:{n}", user_id="U1",
                      text=text, inbound_id=f"e{n}", find_name=finder)
    return services.assistant.handle(inbound)


def test_the_name_is_looked_up_once_outside_the_turn_and_kept_with_the_department(
    services: Services,
) -> None:
    with services.database.session() as session:
        # Registered by an administrator without a name: still looked up once.
        storage.upsert_user_profile(session=session, channel="slack", tenant="T1",
                                    user_id="U1", department="税務課")
    finder = Finder(services, "山田 太郎")
    begun: list[int] = []
    event.listen(services.database.engine, "begin", lambda *_: begun.append(1))

    _turn(services, finder, "RFI とは何ですか？", 1)
    first = len(begun)
    _turn(services, finder, "RFI は必要ですか？", 2)

    assert finder.calls == 1
    assert (first, len(begun) - first) == (2, 1)  # a returning user: the turn alone
    with services.database.session() as session:
        profile = storage.get_user_profile(session=session, channel="slack", tenant="T1",
                                           user_id="U1")
    assert profile is not None
    assert (profile.display_name, profile.department) == ("山田 太郎", "税務課")


def test_a_failed_look_up_never_blocks_the_answer_and_is_tried_again(
    services: Services,
) -> None:
    finder = Finder(services, None)

    assert "RFI" in str(_turn(services, finder, "RFI とは何ですか？", 1))
    _turn(services, finder, "RFI は必要ですか？", 2)

    assert finder.calls == 2
