"""Markdown for a person at a terminal: bold, headings, code and lists drawn by ``rich``.

The core writes simple Markdown (``**回答**``, ``# 情報提供依頼書（案）``, backticks,
``- `` lists). On a terminal it is drawn; when the output is not a terminal (a pipe,
a file, a test's buffer) the text is written as it is, so ``soudan review digest >
digest.md`` still gives Markdown.

Example:
    >>> print_markdown("**回答**\\n- RFI とは…", Console())   # doctest: +SKIP
"""

from __future__ import annotations

import re

import typer
from rich.console import Console

_BLOCK_START = re.compile(r"^\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|>|```|\|)")


def hard_breaks(text: str) -> str:
    """``text`` with its single line breaks kept (Markdown would join the lines).

    A line followed by another non-blank line that does not start a block of its own
    (heading, list item, quote, fence, table) ends with a hard break; fenced code is
    left alone.

    Example:
        >>> hard_breaks("判断結果:\\n■ 必要\\n\\n- a\\n- b")
        '判断結果:  \\n■ 必要\\n\\n- a\\n- b'
    """
    lines = text.split("\n")
    out: list[str] = []
    fenced = False
    for index, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if (
            not fenced
            and line.strip()
            and following.strip()
            and not _BLOCK_START.match(following)
            and not line.endswith("  ")
        ):
            line += "  "
        out.append(line)
    return "\n".join(out)


def print_markdown(text: str, console: Console) -> None:
    """Draw ``text`` on ``console`` when it is a terminal, else write it unchanged."""
    if not console.is_terminal:
        console.print(text, markup=False, highlight=False, soft_wrap=True)
        return
    from rich.markdown import Markdown

    console.print(Markdown(hard_breaks(text), hyperlinks=False))


def echo_markdown(text: str) -> None:
    """:func:`print_markdown` to standard output (the CLI's ``typer.echo`` for Markdown)."""
    console = Console(soft_wrap=True)
    if console.is_terminal:
        print_markdown(text.rstrip("\n"), console)
    else:
        typer.echo(text, nl=not text.endswith("\n"))
