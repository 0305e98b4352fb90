"""``soudan start`` on embedded defaults: the console on localhost beside the terminal chat."""

from __future__ import annotations

import http.cookiejar
import io
import re
import socket
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from rich.console import Console as RichConsole

from bot.chat import TerminalChat
from bot.cli.serve_cmds import _local_console
from bot.wiring import build_services
from storage import UserRole, upsert_user_profile
from tests.web.harness import LINK, NoKnowledge, settings_for
from tests.web.http_client import hidden_fields


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_start_serves_the_console_and_the_chat_hands_out_the_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(tmp_path, port=free_port())
    services = build_services(settings, knowledge=NoKnowledge())
    with services.database.session() as session:
        upsert_user_profile(session=session, channel="terminal", tenant="local",
                            user_id="terminal-user", role=UserRole.REVIEWER)
    server = _local_console(services)
    assert server is not None
    try:
        printed = capsys.readouterr().out
        assert f"管理画面: http://127.0.0.1:{settings.port}/console/" in printed

        screen = io.StringIO()
        chat = TerminalChat(services.assistant, console=RichConsole(file=screen, width=400))
        lines = iter(["管理画面", "終了"])
        chat.run(read=lambda _: next(lines))
        found = LINK.search(screen.getvalue())
        assert found, screen.getvalue()

        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = browser.open(found.group(0), timeout=10).read().decode()
        fields = hidden_fields(page)
        home = browser.open(
            f"{settings.console_url}/console/sign-in",
            data=urllib.parse.urlencode(fields).encode(), timeout=10,
        )
        assert home.geturl().endswith("/console/queue")
        assert re.search("<h1>レビュー一覧</h1>", home.read().decode())
    finally:
        server.stop()
        services.database.dispose()


def test_a_busy_port_leaves_the_chat_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = settings_for(tmp_path, port=taken.getsockname()[1])
        services = build_services(settings, knowledge=NoKnowledge())
        try:
            assert _local_console(services) is None
        finally:
            services.database.dispose()
    assert "管理画面は起動できませんでした" in capsys.readouterr().err
