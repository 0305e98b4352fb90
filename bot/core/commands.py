"""Recognising the few typed commands the core understands (Japanese and English)."""

from __future__ import annotations

import re
import unicodedata
from enum import Enum


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
    if core.endswith(("とは", "教えて", "教えてください")):
        return True
    return any(word in core for word in ("とは何", "教えて", "どうすれば", "どうしたら"))
