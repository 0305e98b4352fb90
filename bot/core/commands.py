"""Recognising the few typed commands the core understands (Japanese and English)."""

from __future__ import annotations

import re
import unicodedata
from enum import Enum

from flows.parsing.hedge import is_hedge


class Command(Enum):
    START = "start"
    RESUME = "resume"
    CANCEL = "cancel"
    BACK = "back"
    HELP = "help"
    REVIEW = "review"
    DIGEST = "digest"
    SHEETS = "sheets"
    SUBMIT = "submit"
    CONSOLE = "console"


# Whole-message commands only: 「相談を始める」 is a command, 「相談を始めるには？」 is a question.
_WORDS: dict[Command, tuple[str, ...]] = {
    Command.START: ("相談を始める", "相談開始", "相談する", "相談", "相談をはじめる", "ict相談",
                    "start", "consult", "newconsultation"),
    Command.RESUME: ("続きから", "つづきから", "再開", "続ける", "相談の続き", "resume", "continue"),
    Command.CANCEL: ("やめる", "止める", "中止", "キャンセル", "相談をやめる", "cancel"),
    Command.BACK: ("戻る", "もどる", "一つ前に戻る", "前に戻る", "back"),
    Command.HELP: ("ヘルプ", "help", "使い方", "?"),
    Command.REVIEW: ("レビュー", "review", "レビュー一覧"),
    Command.DIGEST: ("ダイジェスト", "digest", "週次ダイジェスト"),
    Command.SHEETS: ("相談シート", "私の相談シート", "シート一覧", "sheets", "mysheets"),
    Command.SUBMIT: ("提出", "提出する", "submit"),
    Command.CONSOLE: ("管理画面", "管理画面を開く", "webコンソール", "console", "webconsole"),
}

_LOOKUP = {word: command for command, words in _WORDS.items() for word in words}


def command_words(*commands: Command) -> tuple[str, ...]:
    """The words that spell ``commands`` (normalized: lower case, no spaces).

    For callers that read a command as the first word of a longer message
    (「ダイジェスト 2026-W47」); whole messages go through :func:`parse_command`.

    Example:
        >>> "週次ダイジェスト" in command_words(Command.DIGEST)
        True
    """
    return tuple(word for command in commands for word in _WORDS[command])


def command_word(command: Command) -> str:
    """The usual word for ``command``: what a channel's shortcut for it says to the core.

    Example:
        >>> command_word(Command.START), command_word(Command.HELP)
        ('相談を始める', 'ヘルプ')
    """
    return _WORDS[command][0]


_STRIP = re.compile(r"[\s。、．，.!！]+")


def normalize(text: str) -> str:
    """NFKC, lower case, no spaces or trailing punctuation: how commands are compared."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return _STRIP.sub("", folded)


def parse_command(text: str | None) -> Command | None:
    """Return the command a whole message spells, or None.

    Example:
        >>> parse_command("相談を始める")
        <Command.START: 'start'>
        >>> parse_command("相談を始めるには何が必要？") is None
        True
    """
    if not text:
        return None
    key = normalize(text)
    if key.startswith("/"):
        key = key[1:]
    return _LOOKUP.get(key)



def looks_like_question(text: str, *, strict: bool = False) -> bool:
    """Heuristic: does a message typed during a flow ask something rather than answer?

    Used only when the message is not a valid answer to the pending step, or the step
    takes free text. ``strict`` (free-text steps, where an answer may well contain
    「どうすれば」): only a question mark or a polite question ending counts.
    """
    stripped = unicodedata.normalize("NFKC", text).strip()
    if not stripped:
        return False
    if stripped.endswith(("?", "？")):
        return True
    core = stripped.rstrip("。.!！ ")
    if core.endswith(("ですか", "ますか", "でしょうか")):
        return True
    if strict:
        return False
    if core.endswith(("教えて", "教えてください")) or _ASKS_DEFINITION.search(core):
        return True
    return any(word in core for word in ("とは何", "教えて", "どうすれば", "どうしたら"))


# 「RFIとは」「イニシャルコストとは」: a term (kanji, katakana or latin) before とは; a
# kana-only lead-in is a hedge trailing off (「まだちゃんとは」), not a question.
_ASKS_DEFINITION = re.compile(r"[A-Za-z0-9ァ-ヴー一-龥]とは$")
# Interrogatives: a reply that asks something although it has no question mark.
_INTERROGATIVE = re.compile(
    r"(いくら|幾ら|どれ|どの|どう|どんな|なぜ|何故|どうして|いつ|どこ|だれ|誰|何[がをにでのと]|なにが|なにを)"
)


def asks_something(text: str) -> bool:
    """A reply that asks rather than answers, also without 「？」 (``looks_like_question`` or
    an interrogative such as いくら / どれくらい / なぜ), and is not a hedge.

    For steps whose answers are checkable (amount, yes/no, date …) and the reply did
    not read as one.
    """
    if is_hedge(text):
        return False
    core = unicodedata.normalize("NFKC", text).strip()
    return looks_like_question(core) or bool(_INTERROGATIVE.search(core)) or core.rstrip(
        "。.!！ "
    ).endswith(("何", "なに", "の", "か", "かな", "かしら"))
