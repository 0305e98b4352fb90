"""Generated answers through LangChain, checked against the passages they cite.

``GroundedLLMComposer`` asks a chat model (any LangChain chat model; the bot uses
``langchain_openai.ChatOpenAI`` on an OpenAI-compatible endpoint) to answer from the
numbered passages only, then checks the reply before anyone sees it:

* every sentence carries at least one citation ``[n]`` with ``1 <= n <=`` the number of
  passages given;
* every number in a sentence (arabic digits after NFKC, with 万/億 and 十/百/千
  multipliers: ``300万円`` is 3,000,000) occurs in one of the passages that sentence
  cites (title, section path or text).

A reply that fails a check, a timeout, an HTTP error and an empty or malformed reply
all give the fallback composer's (extractive) answer instead. Only the outcome
category is logged (see :class:`Outcome`), never the question, the passages or the
reply. The answer cites the passages actually cited, renumbered in order of first
citation.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate

from knowledge.types import Answer, AnswerComposer, Hit, Passage

logger = logging.getLogger(__name__)

MAX_PASSAGES = 8
"""At most this many passages go into the prompt (the retriever gives ``top_k``)."""

NOT_IN_DOCUMENTS = "資料には記載がありません。"
"""What the model is told to reply when the passages do not answer the question."""

SYSTEM_PROMPT = f"""あなたは自治体の ICT 調達に関する職員の質問に答えるアシスタントです。
与えられた資料の抜粋だけを根拠に、日本語で簡潔に（3 文程度まで）答えてください。

守ること:
- 抜粋に書かれていないことは書かない。推測や一般論、抜粋にない数値は書かない。
- すべての文の末尾（句点の前）に、根拠にした抜粋の番号を [1] のように付ける。複数なら [1][2]。
- 箇条書きにする場合は「・」で始め、各行の末尾にも番号を付ける。
- 金額・日数・件数などの数値は、引用した抜粋に書かれているとおりに書く。
- 複数の自治体の資料を使う場合は、どの自治体の定めかを文の中で示す。
- 抜粋に答えがない場合は「{NOT_IN_DOCUMENTS}」とだけ答える。"""

HUMAN_PROMPT = """資料の抜粋:
{passages}

{context}質問: {question}"""

PROMPT = ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", HUMAN_PROMPT)])


class Outcome(StrEnum):
    """What happened to one generated answer (the only thing logged about it)."""

    ACCEPTED = "accepted"
    MISSING_CITATION = "missing_citation"
    """A sentence without a citation, or with one that points at no given passage."""
    UNSUPPORTED_NUMBER = "unsupported_number"
    DECLINED = "declined"
    """The model said the passages do not answer (the extractive answer is shown)."""
    TIMEOUT = "timeout"
    ERROR = "error"
    """HTTP or connection error, empty or malformed reply."""


# One citation marker: [1], [1, 2], ［１］, [1][2] is two markers.
_CITATION = re.compile(r"[\[［]\s*([0-9０-９]+(?:\s*[,，、]\s*[0-9０-９]+)*)\s*[\]］]")
# A sentence: text up to its closing punctuation, with the citations written after it.
_SENTENCE = re.compile(
    r"[^。．！？!?\n]+(?:[。．！？!?]+(?:[ \t　]*" + _CITATION.pattern + r")*|$)", re.MULTILINE
)
_NUMBER = re.compile(
    r"(?<![0-9.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![0-9])\s*([十百千])?\s*([万億兆])?"
)
_SMALL = {"十": 10, "百": 100, "千": 1000}
_LARGE = {"万": 10**4, "億": 10**8, "兆": 10**12}
_HAS_CONTENT = re.compile(r"\w")


class _Rejected(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.value)
        self.outcome = outcome


def numbers(text: str) -> set[Decimal]:
    """The numbers written in ``text`` as values (NFKC; ``1,000`` and ``3千万`` included).

    >>> sorted(numbers("初期費用が300万円以上、期間は１年"))
    [Decimal('1'), Decimal('3000000')]
    """
    values: set[Decimal] = set()
    for match in _NUMBER.finditer(unicodedata.normalize("NFKC", text)):
        whole, fraction, small, large = match.groups()
        try:
            value = Decimal(whole.replace(",", "") + (fraction or ""))
        except InvalidOperation:  # pragma: no cover - the pattern only matches digits
            continue
        value *= _SMALL.get(small or "", 1) * _LARGE.get(large or "", 1)
        values.add(value)
    return values


def _citation_numbers(marker_body: str) -> list[int]:
    return [int(unicodedata.normalize("NFKC", part)) for part in re.split(r"[,，、]", marker_body)]


def passage_block(number: int, passage: Passage) -> str:
    """One numbered passage as the prompt shows it: ``[n] title > section`` then the text."""
    heading = " > ".join(part for part in (passage.title, passage.section) if part)
    return f"[{number}] {heading}\n{passage.text.strip()}"


def _reply_text(message: Any) -> str:
    content = getattr(message, "content", None)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            part if isinstance(part, str) else part.get("text", "")
            for part in content
            if isinstance(part, str) or (isinstance(part, dict) and part.get("type") == "text")
        ]
        return "".join(str(part) for part in parts)
    raise _Rejected(Outcome.ERROR)


def _is_timeout(error: BaseException) -> bool:
    return isinstance(error, TimeoutError) or "timeout" in type(error).__name__.lower()


class GroundedLLMComposer:
    """An :class:`~knowledge.types.AnswerComposer` that generates the answer with a chat
    model and falls back to another composer whenever the reply cannot be trusted.

    Args:
        chat_model: A LangChain chat model (timeouts and retries are its own settings).
        fallback: The composer whose answer is shown instead (the extractive one).

    Example:
        >>> composer = GroundedLLMComposer(ChatOpenAI(...), extractive)  # doctest: +SKIP
        >>> composer.compose("初期費用がいくら以上なら協議？", hits)  # doctest: +SKIP
    """

    def __init__(self, chat_model: BaseChatModel, fallback: AnswerComposer) -> None:
        self.chat_model = chat_model
        self.fallback = fallback
        self.chain = PROMPT | chat_model

    def compose(self, question: str, hits: Sequence[Hit], *, history: Sequence[str] = ()) -> Answer:
        passages = [hit.passage for hit in hits[:MAX_PASSAGES]]
        if not passages:
            return self.fallback.compose(question, hits, history=history)
        try:
            reply = self._generate(question, passages, history)
            answer = checked_answer(question, reply, passages)
        except _Rejected as rejected:
            outcome = rejected.outcome
        except Exception as error:  # any failure of the endpoint or the client
            outcome = Outcome.TIMEOUT if _is_timeout(error) else Outcome.ERROR
            logger.info("llm answer: %s (%s)", outcome.value, type(error).__name__)
            return self.fallback.compose(question, hits, history=history)
        else:
            logger.info("llm answer: %s", Outcome.ACCEPTED.value)
            return answer
        logger.info("llm answer: %s", outcome.value)
        return self.fallback.compose(question, hits, history=history)

    def _generate(self, question: str, passages: Sequence[Passage], history: Sequence[str]) -> str:
        context = f"（直前の質問: {history[-1]}）\n" if history else ""
        message = self.chain.invoke(
            {
                "passages": "\n\n".join(
                    passage_block(number, passage)
                    for number, passage in enumerate(passages, start=1)
                ),
                "context": context,
                "question": question,
            }
        )
        return _reply_text(message)


def checked_answer(question: str, reply: str, passages: Sequence[Passage]) -> Answer:
    """The reply as an answer when every check holds (raises ``_Rejected`` otherwise).

    Citations are renumbered in order of first citation, and the answer cites exactly
    those passages.
    """
    text = reply.strip()
    if not text:
        raise _Rejected(Outcome.ERROR)
    if not _CITATION.search(text) and unicodedata.normalize("NFKC", text).startswith(
        NOT_IN_DOCUMENTS.rstrip("。")
    ):
        raise _Rejected(Outcome.DECLINED)
    supported_by = [numbers(f"{p.title}\n{p.section}\n{p.text}") for p in passages]
    order: list[int] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0)
        cited = [n for m in _CITATION.finditer(sentence) for n in _citation_numbers(m.group(1))]
        if any(not 1 <= n <= len(passages) for n in cited):
            raise _Rejected(Outcome.MISSING_CITATION)
        body = _CITATION.sub("", sentence)
        if _HAS_CONTENT.search(body):
            if not cited:
                raise _Rejected(Outcome.MISSING_CITATION)
            supported: set[Decimal] = set()
            for n in cited:
                supported |= supported_by[n - 1]
            if not numbers(body) <= supported:
                raise _Rejected(Outcome.UNSUPPORTED_NUMBER)
        order += [n for n in dict.fromkeys(cited) if n not in order]
    if not order:
        raise _Rejected(Outcome.MISSING_CITATION)
    renumber = {old: new for new, old in enumerate(order, start=1)}

    def rewrite(marker: re.Match[str]) -> str:
        cited = dict.fromkeys(_citation_numbers(marker.group(1)))
        return "".join(f"[{renumber[n]}]" for n in cited)

    return Answer(
        question=question,
        answered=True,
        text=_CITATION.sub(rewrite, text),
        citations=tuple(passages[n - 1] for n in order),
    )
