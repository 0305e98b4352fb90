"""The LLM path: generated answers are shown only when they are grounded in the passages.

A small OpenAI-compatible fake server on 127.0.0.1 returns scripted replies; the chat
model is the one the bot builds (``langchain_openai.ChatOpenAI`` through
``bot.knowledge_setup``). No embedding model, no other network.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.knowledge_setup import chat_model, llm_composer
from bot.settings import Settings
from knowledge.llm_composer import GroundedLLMComposer, numbers
from knowledge.types import Answer, Hit, Passage
from tests.log_capture import MARKER, CapturedLogs, all_logs  # noqa: F401  (fixture)

API_KEY = "sk-test-NEVER-LOGGED-4711"
TIMEOUT = 0.5

KISARAZU = Passage(
    id="k-3",
    doc="kisarazu-ict-guideline.md",
    title="木更津市 ICT 活用ガイドライン",
    section="【Ⅰ. 検討】 > 3. ICT 活用に関する協議",
    text="イニシャルコストが300万円以上の場合は、DX推進本部で協議する。協議は原則として月1回行う。",
)
OKAYAMA = Passage(
    id="o-46",
    doc="okayama-spec.md",
    title="岡山市 統合運用業務 仕様書",
    section="4.6 支払い",
    text="委託料は四半期ごとに支払う。",
)
KAWASAKI = Passage(
    id="w-2",
    doc="kawasaki-cio-support-spec.md",
    title="川崎市 CIO補佐業務 仕様書",
    section="2. 業務内容",
    text="所管課概要案の精査を行う。",
)
HITS = [Hit(KISARAZU, 0.9), Hit(OKAYAMA, 0.5), Hit(KAWASAKI, 0.4)]
EXTRACTIVE = "抜粋による回答[1]"


class FallbackComposer:
    """Stands in for the extractive composer: a fixed answer, and it counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def compose(self, question: str, hits: Sequence[Hit], *, history: Sequence[str] = ()) -> Answer:
        self.calls += 1
        return Answer(question, bool(hits), EXTRACTIVE, tuple(h.passage for h in hits[:1]))


# --- the fake OpenAI-compatible server -------------------------------------------------------
@dataclass
class Reply:
    content: str | None = None
    status: int = 200
    body: str | None = None
    """Raw body instead of a chat completion (malformed replies)."""
    delay: float = 0.0


@dataclass
class FakeServer:
    base_url: str
    replies: queue.Queue[Reply] = field(default_factory=queue.Queue)
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)

    def script(self, *replies: Reply) -> None:
        for reply in replies:
            self.replies.put(reply)


def _completion(content: str) -> str:
    return json.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": "fake-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        },
        ensure_ascii=False,
    )


@pytest.fixture
def server() -> Iterator[FakeServer]:
    state: FakeServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length)
            if self.path != "/v1/chat/completions":
                self.send_error(404)
                return
            state.requests.append(json.loads(payload))
            state.authorizations.append(self.headers.get("Authorization", ""))
            reply = state.replies.get_nowait()
            time.sleep(reply.delay)
            body = (reply.body if reply.body is not None else _completion(reply.content or ""))
            data = body.encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout)
                pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state = FakeServer(base_url=f"http://127.0.0.1:{httpd.server_address[1]}/v1")
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-llm", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _settings(server: FakeServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_base_url": server.base_url,
        "llm_model": "fake-model",
        "llm_api_key": API_KEY,
        "llm_timeout": TIMEOUT,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def fallback() -> FallbackComposer:
    return FallbackComposer()


@pytest.fixture
def composer(server: FakeServer, fallback: FallbackComposer) -> GroundedLLMComposer:
    wrap = llm_composer(_settings(server))
    assert wrap is not None
    built = wrap(fallback)
    assert isinstance(built, GroundedLLMComposer)
    return built


QUESTION = "DX推進本部で協議が必要になるのは初期費用がいくら以上のとき？"


# --- the checks --------------------------------------------------------------------------
def test_a_grounded_reply_is_used_with_its_citations_renumbered(
    server: FakeServer, composer: GroundedLLMComposer, fallback: FallbackComposer
) -> None:
    server.script(
        Reply(
            "岡山市では委託料を四半期ごとに支払います[2]。"
            "木更津市では、イニシャルコストが３００万円以上の場合に DX推進本部で協議します[1][2]。"
        )
    )
    answer = composer.compose(QUESTION, HITS)
    assert fallback.calls == 0
    assert answer.answered
    assert answer.citations == (OKAYAMA, KISARAZU)
    assert answer.text == (
        "岡山市では委託料を四半期ごとに支払います[1]。"
        "木更津市では、イニシャルコストが３００万円以上の場合に DX推進本部で協議します[2][1]。"
    )
    # The prompt: numbered passages (title > section, text), the question, one request.
    (request,) = server.requests
    prompt = "\n".join(message["content"] for message in request["messages"])
    assert "[1] 木更津市 ICT 活用ガイドライン > 【Ⅰ. 検討】 > 3. ICT 活用に関する協議" in prompt
    assert "[3] 川崎市 CIO補佐業務 仕様書 > 2. 業務内容\n所管課概要案の精査を行う。" in prompt
    assert QUESTION in prompt
    assert request["model"] == "fake-model"
    assert server.authorizations == [f"Bearer {API_KEY}"]


def test_citations_after_the_full_stop_and_list_lines_are_accepted(
    server: FakeServer, composer: GroundedLLMComposer
) -> None:
    server.script(Reply("協議が必要です。[1]\n・月1回行います[1]\n・所管課概要案の精査[3]"))
    answer = composer.compose(QUESTION, HITS)
    assert answer.text == "協議が必要です。[1]\n・月1回行います[1]\n・所管課概要案の精査[2]"
    assert answer.citations == (KISARAZU, KAWASAKI)


@pytest.mark.parametrize(
    "content",
    [
        # 500万円 is in no passage
        "イニシャルコストが500万円以上の場合は協議します[1]。",
        # 300万円 is in passage 1, but the sentence cites passage 2 only
        "委託料は300万円以上です[2]。",
        # 300円 is not 300万円
        "イニシャルコストが300円以上の場合は協議します[1]。",
    ],
    ids=["number-in-no-passage", "number-in-another-passage", "unit-differs"],
)
def test_a_number_not_in_the_cited_passage_gives_the_extractive_answer(
    server: FakeServer,
    composer: GroundedLLMComposer,
    fallback: FallbackComposer,
    caplog: pytest.LogCaptureFixture,
    content: str,
) -> None:
    server.script(Reply(content))
    with caplog.at_level(logging.INFO, logger="knowledge.llm_composer"):
        answer = composer.compose(QUESTION, HITS)
    assert answer.text == EXTRACTIVE and fallback.calls == 1
    assert "unsupported_number" in caplog.text


@pytest.mark.parametrize(
    "content",
    [
        "イニシャルコストが300万円以上の場合は協議します[1]。協議は DX推進本部で行います。",
        "イニシャルコストが300万円以上の場合は協議します[9]。",
        "イニシャルコストが300万円以上の場合は協議します[1][0]。",
    ],
    ids=["sentence-without-citation", "citation-out-of-range", "citation-zero"],
)
def test_a_sentence_without_a_valid_citation_gives_the_extractive_answer(
    server: FakeServer,
    composer: GroundedLLMComposer,
    fallback: FallbackComposer,
    caplog: pytest.LogCaptureFixture,
    content: str,
) -> None:
    server.script(Reply(content))
    with caplog.at_level(logging.INFO, logger="knowledge.llm_composer"):
        answer = composer.compose(QUESTION, HITS)
    assert answer.text == EXTRACTIVE and fallback.calls == 1
    assert "missing_citation" in caplog.text


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body="{not json"),
        Reply(body='{"choices": "nope"}'),
        Reply(status=500, body='{"error": {"message": "boom"}}'),
        Reply(status=401, body='{"error": {"message": "bad key"}}'),
        Reply(""),
        Reply("   "),
    ],
    ids=["malformed-json", "malformed-completion", "http-500", "http-401", "empty", "blank"],
)
def test_malformed_replies_and_http_errors_give_the_extractive_answer(
    server: FakeServer,
    composer: GroundedLLMComposer,
    fallback: FallbackComposer,
    caplog: pytest.LogCaptureFixture,
    reply: Reply,
) -> None:
    server.script(reply)
    with caplog.at_level(logging.INFO, logger="knowledge.llm_composer"):
        answer = composer.compose(QUESTION, HITS)
    assert answer.text == EXTRACTIVE and fallback.calls == 1
    assert "llm answer: error" in caplog.text
    assert len(server.requests) == 1  # no retries


def test_a_declining_reply_gives_the_extractive_answer(
    server: FakeServer, composer: GroundedLLMComposer, fallback: FallbackComposer
) -> None:
    server.script(Reply("資料には記載がありません。"))
    assert composer.compose(QUESTION, HITS).text == EXTRACTIVE
    assert fallback.calls == 1


def test_a_timeout_gives_the_extractive_answer_in_time(
    server: FakeServer,
    composer: GroundedLLMComposer,
    fallback: FallbackComposer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.script(Reply("イニシャルコストが300万円以上の場合は協議します[1]。", delay=TIMEOUT + 0.7))
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="knowledge.llm_composer"):
        answer = composer.compose(QUESTION, HITS)
    assert time.monotonic() - started < TIMEOUT + 0.6
    assert answer.text == EXTRACTIVE and fallback.calls == 1
    assert "llm answer: timeout" in caplog.text


def test_no_passages_means_no_request(
    server: FakeServer, composer: GroundedLLMComposer, fallback: FallbackComposer
) -> None:
    assert composer.compose(QUESTION, []).text == EXTRACTIVE and fallback.calls == 1
    assert server.requests == []


# --- logs ----------------------------------------------------------------------------
def test_the_api_key_never_appears_in_logs(
    server: FakeServer, composer: GroundedLLMComposer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(
        Reply("イニシャルコストが300万円以上の場合は協議します[1]。"),
        Reply(status=500, body='{"error": {"message": "boom"}}'),
        Reply("x", delay=TIMEOUT + 0.7),
    )
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        composer.compose(QUESTION, HITS)
    logged = caplog.text + "".join(repr(vars(record)) for record in caplog.records)
    assert "accepted" in logged and "error" in logged and "timeout" in logged
    assert API_KEY not in logged
    assert "NEVER-LOGGED" not in logged


def test_no_user_text_passage_or_reply_in_logs(
    server: FakeServer,
    composer: GroundedLLMComposer,
    all_logs: CapturedLogs,  # noqa: F811
) -> None:
    question = f"{MARKER} の初期費用はいくら以上で協議？"
    server.script(
        Reply("イニシャルコストが300万円以上の場合は協議します[1]。"),
        Reply(f"{MARKER} は500万円です[1]。"),
        Reply(body="{not json"),
    )
    for _ in range(3):
        composer.compose(question, HITS, history=[f"{MARKER} 前の質問"])
    assert all_logs.leaks() == []
    texts = "".join(all_logs.texts())
    assert "イニシャルコスト" not in texts and API_KEY not in texts
    assert "accepted" in texts and "unsupported_number" in texts


# --- settings ----------------------------------------------------------------------------
def test_an_unset_base_url_means_no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SOUDAN_LLM_BASE_URL", "SOUDAN_LLM_MODEL", "SOUDAN_LLM_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert not settings.llm_configured
    assert llm_composer(settings) is None
    monkeypatch.setenv("SOUDAN_LLM_BASE_URL", "")
    assert llm_composer(Settings(_env_file=None)) is None


def test_a_base_url_builds_the_chat_model_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOUDAN_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("SOUDAN_LLM_MODEL", "qwen2.5-7b-instruct")
    monkeypatch.setenv("SOUDAN_LLM_API_KEY", API_KEY)
    monkeypatch.setenv("SOUDAN_LLM_TIMEOUT", "7.5")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    settings = Settings(_env_file=None)
    assert settings.llm_configured
    assert API_KEY not in repr(settings) and API_KEY not in str(settings.model_dump())
    model: Any = chat_model(settings)
    assert model.model_name == "qwen2.5-7b-instruct"
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.openai_api_key.get_secret_value() == API_KEY
    assert model.request_timeout == 7.5 and model.max_retries == 0
    # Without a key of its own, the environment's OpenAI key is never sent elsewhere.
    monkeypatch.delenv("SOUDAN_LLM_API_KEY")
    keyless: Any = chat_model(Settings(_env_file=None))
    assert keyless.openai_api_key.get_secret_value() != "sk-from-the-environment"


@pytest.mark.parametrize(
    ("overrides", "field_name"),
    [
        ({"llm_base_url": "http://127.0.0.1:9/v1"}, "llm_model"),
        ({"llm_base_url": "127.0.0.1:9/v1", "llm_model": "m"}, "llm_base_url"),
        ({"llm_base_url": "http://h/v1", "llm_model": "m", "llm_api_key": "changeme"}, "llm_api_key"),
    ],
)
def test_incomplete_llm_settings_are_refused(overrides: dict[str, Any], field_name: str) -> None:
    with pytest.raises(ValueError, match=field_name):
        Settings(_env_file=None, **overrides)


def test_numbers_are_compared_as_values() -> None:
    assert numbers("300万円") == numbers("3,000,000円") == numbers("３００万円")
    assert numbers("300円") != numbers("300万円")
    assert numbers("4.6 支払い、1.5億円") == {Decimal("4.6"), Decimal("150000000")}
    assert numbers("2024年4月1日") == {Decimal(2024), Decimal(4), Decimal(1)}
