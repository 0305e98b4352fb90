"""Structure-aware chunking: clause-level passages with a section path.

The documents are PDF conversions, so Markdown heading levels are unreliable and the
numbering is the real structure (【Ⅰ. 検討】, Ⅲ, 1, 1.1, 1.1.1, (1), ア, (ア), ①). A
heading's place in the hierarchy is decided by its numbering style: a style already
open higher up is a sibling when its number continues the sequence, otherwise (a
restart at 1) it opens a nested list; a new style nests below the current heading;
unnumbered headings (<概要>, 【開始前引継期間】) are leaves. Repeated subheadings such
as ``(1) 実施者`` therefore carry their parent path.

Body lines broken by the PDF conversion are joined (no space between Japanese
characters), footnotes interleaved in a sentence are moved after it, tables stay whole
with their caption, and passages are packed from whole sentences, never cutting one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from knowledge.documents import SourceDocument, inline_html_to_text
from knowledge.types import Passage

TARGET_CHARS = 500
"""Passages are packed up to about this many characters (whole sentences only)."""
MAX_TABLE_CHARS = 1600
"""Longer tables are split at row boundaries, each part repeating the header row."""
SECTION_SEPARATOR = " > "
CHUNKING_VERSION = "6"
"""Part of every document's change digest: a new version re-chunks unchanged documents."""
MAX_OUTLINE_CHILDREN = 15
_INTRODUCES = re.compile(
    r"((以下|次)(の|に示す)?(とおり|通り)(である|です|とする)?|(以下|次)に(示す|掲げる|挙げる)"
    r"|(以下|次)の(\d+|[一二三四五六七八九十]+)(つ|点|項目))。?$|[：:]$"
)

_ROMAN = {
    "I": 1,
    "II": 2,
    "III": 3,
    "IV": 4,
    "V": 5,
    "VI": 6,
    "VII": 7,
    "VIII": 8,
    "IX": 9,
    "X": 10,
    "Ⅰ": 1,
    "Ⅱ": 2,
    "Ⅲ": 3,
    "Ⅳ": 4,
    "Ⅴ": 5,
    "Ⅵ": 6,
    "Ⅶ": 7,
    "Ⅷ": 8,
    "Ⅸ": 9,
    "Ⅹ": 10,
}
_KATAKANA = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
)
_ROMAN_RE = r"(X|IX|VIII|VII|VI|V|IV|III|II|I|[Ⅰ-Ⅹ])"
_TERMINATORS = ("。", "．", "：", ":", "）", ")", "」", "』", "】", "!", "?", "！", "？")
_TOC_LINE = re.compile(r"(\.{3,}|…{2,}|・{3,})\s*\d+\s*$|\t\s*\d{1,3}\s*$")
_RULE_LINE = re.compile(r"(?=.*\||(?:\s*[-=_*:]){2})[-=_*|:\s]+")
"""A horizontal rule or a table's rule row, in any of the conversions' forms (「-----」,
「-----\t---」 between tab-separated cells, 「- |  ||--||」 left of an emptied Markdown
table, 「- |  |」「|--|」「|」 on lines of their own): layout, never text."""
_GLUE_END = re.compile(r"(以下|次)(の|に示す)?(とおり|通り)(である|です)?。?$|[：:]$")
_SENTENCE_END = re.compile(r"(?<=[。．！？])(?![」』）)\]。])")


@dataclass(frozen=True)
class Heading:
    """A heading with its numbering style (``dec2`` for 1.1, ``paren`` for (1) …)."""

    style: str
    number: int | None
    label: str
    rank: str
    """``top`` (always a root), ``leaf`` (never gets children) or ``nested``."""


def classify_heading(text: str, *, markdown_level: int | None) -> Heading | None:
    """Recognise a heading's numbering style; None when the text is not numbered.

    Unnumbered text is returned as a ``plain`` leaf only for Markdown headings.
    """
    label = _clean_label(text)
    if not label:
        return None
    bracket = re.match(r"^【(.+?)】", label)
    if bracket:
        inner = bracket.group(1).strip()
        roman = re.match(_ROMAN_RE + r"(?![A-Za-z])[\s\.．]*", inner)
        if roman:
            return Heading("bracket-roman", _ROMAN[roman.group(1)], label, "top")
        if markdown_level == 1 or re.match(r"(別紙|はじめに|付録|資料編|様式編)", inner):
            return Heading("bracket", None, label, "top")
        return Heading("bracket", None, label, "leaf")
    match = re.match(r"^(\d{1,2}(?:[\.．]\d{1,2})*)(?:[\.．](?!\d))?[\s　\t]*(?=\D)", label)
    if match and not re.match(
        r"^\d+[\s　]*(年|月|日|時|分|か月|ヶ月|万|円|%|％|名|人|回|社)", label
    ):
        parts = re.split(r"[\.．]", match.group(1))
        return Heading(f"dec{len(parts)}", int(parts[-1]), label, "nested")
    match = re.match(_ROMAN_RE + r"(?![A-Za-z])[\s　\.．\t]", label)
    if match:
        return Heading("roman", _ROMAN[match.group(1)], label, "nested")
    match = re.match(r"^[（(](\d{1,2})[)）]", label)
    if match:
        return Heading("paren", int(match.group(1)), label, "nested")
    match = re.match(r"^[（(]([ア-ン])[)）]", label)
    if match and match.group(1) in _KATAKANA:
        return Heading("paren-kana", _KATAKANA.index(match.group(1)) + 1, label, "nested")
    match = re.match(r"^([ア-ン])[\s　]", label)
    if match and match.group(1) in _KATAKANA:
        return Heading("kana", _KATAKANA.index(match.group(1)) + 1, label, "nested")
    match = re.match(r"^([①-⑳])", label)
    if match:
        return Heading("circled", ord(match.group(1)) - ord("①") + 1, label, "nested")
    if markdown_level is None:
        return None
    if re.match(r"^[<＜〈].+[>＞〉]$", label):
        return Heading("angle", None, label, "leaf")
    return Heading("plain", None, label, "leaf")


def _decimal_key(label: str) -> tuple[int, ...]:
    match = re.match(r"^(\d{1,2}(?:[\.．]\d{1,2})*)", label)
    return tuple(int(part) for part in re.split(r"[\.．]", match.group(1))) if match else ()


def _decimal_follows(previous: tuple[int, ...], key: tuple[int, ...]) -> bool:
    """True when decimal number ``key`` can come right after ``previous`` (1.2 → 1.2.1, 1.3, 2.1)."""
    if not previous or not key:
        return False
    if len(key) == len(previous) + 1 and key[:-1] == previous and key[-1] == 1:
        return True
    for depth in range(min(len(key), len(previous))):
        if key[:depth] == previous[:depth] and key[depth] == previous[depth] + 1:
            return all(part == 1 for part in key[depth + 1 :])
    return False


def _clean_label(text: str) -> str:
    text = inline_html_to_text(text, keep_one_line=True)
    text = text.replace("**", "").replace("__", "").replace("\t", " ")
    return re.sub(r"[ 　]{2,}", " ", text).strip()


class SectionStack:
    """The open headings; ``push`` places a heading by its numbering style."""

    def __init__(self) -> None:
        self.open: list[Heading] = []

    def push(self, heading: Heading) -> None:
        while self.open and self.open[-1].rank == "leaf":
            self.open.pop()
        if heading.rank == "top":
            self.open = [heading]
        elif heading.rank == "leaf":
            self.open.append(heading)
        elif heading.style.startswith("dec"):
            self._push_decimal(heading)
        else:
            self._push_numbered(heading)

    def _push_decimal(self, heading: Heading) -> None:
        key = _decimal_key(heading.label)
        for depth in range(len(self.open) - 1, -1, -1):
            current = self.open[depth]
            parent_key = _decimal_key(current.label) if current.style.startswith("dec") else ()
            is_parent = (
                parent_key and key[: len(parent_key)] == parent_key and len(parent_key) < len(key)
            ) or (
                # 「(3) 基本要件」 > 「3.1 …」; but not when a decimal heading further up
                # continues into this one (3.3.1 … (3) 上記以外 … then 3.4 is 3.3's sibling).
                current.style == "paren"
                and len(key) >= 2
                and current.number == key[0]
                and not any(
                    _decimal_follows(_decimal_key(above.label), key)
                    for above in self.open[:depth]
                    if above.style.startswith("dec")
                )
            )
            if is_parent:
                self.open = [*self.open[: depth + 1], heading]
                return
        for depth, current in enumerate(self.open):
            if current.style == heading.style:
                self.open = [*self.open[:depth], heading]
                return
        self.open.append(heading)

    def _push_numbered(self, heading: Heading) -> None:
        number = heading.number or 0
        same = [d for d, current in enumerate(self.open) if current.style == heading.style]
        for depth in reversed(same):
            if self.open[depth].number == number - 1:
                self.open = [*self.open[:depth], heading]
                return
        if same and number > (self.open[same[-1]].number or 0):
            self.open = [*self.open[: same[-1]], heading]  # a gap in the numbering
            return
        self.open.append(heading)

    def continues(self, heading: Heading, *, strict: bool = False) -> bool:
        """True when ``heading`` is the next number of a style already open.

        ``strict`` (inside a running sentence) accepts only a next sibling or a first
        child: a jump to a new chapter there is far more likely a footnote.
        """
        if heading.style.startswith("dec"):
            key = _decimal_key(heading.label)
            return any(
                _decimal_follows(_decimal_key(current.label), key)
                and (not strict or len(key) >= len(_decimal_key(current.label)))
                for current in self.open
                if current.style.startswith("dec")
            )
        return any(
            current.style == heading.style
            and current.number is not None
            and heading.number == current.number + 1
            for current in self.open
        )

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(heading.label for heading in self.open)


@dataclass
class _Block:
    """A unit of body text under one section path."""

    path: tuple[str, ...]
    kind: str  # "heading" | "para" | "item" | "table" | "note"
    lines: list[str] = field(default_factory=list)


def join_lines(left: str, right: str) -> str:
    """Join two broken lines: a space only between Latin letters or digits."""
    left, right = left.rstrip(), right.lstrip()
    if not left:
        return right
    if not right:
        return left
    if left[-1].isascii() and left[-1].isalnum() and right[0].isascii() and right[0].isalnum():
        return left + " " + right
    return left + right


def _is_item(line: str) -> bool:
    return bool(re.match(r"^\s*([-*+・●○◆◇■□▪➤▶]\s*|\d{1,2}[\.．]\s)", line))


def _is_finished(text: str) -> bool:
    text = text.rstrip()
    if text.endswith(("：", ":")) and _unclosed(text):
        return False  # 「…は PMO（事務局：」 / 「情報課）を主体として…」: the line broke inside brackets
    return text.endswith(_TERMINATORS)


def _unclosed(text: str) -> bool:
    """More opening than closing round brackets."""
    return text.count("（") + text.count("(") > text.count("）") + text.count(")")


class _Reader:
    """Turns a document's lines into blocks under section paths."""

    def __init__(self, text: str) -> None:
        self.raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self.use_markdown = sum(1 for line in self.raw if re.match(r"^#{1,6}\s", line)) >= 5
        self.stack = SectionStack()
        self.blocks: list[_Block] = []
        self.notes: list[str] = []

    def _expanded(self) -> Iterator[str]:
        for raw in self.raw:
            line = raw.rstrip(" \u3000").replace("**", "")
            if "\t" in line:
                yield inline_html_to_text(line, keep_one_line=True) if "<" in line else line
            elif "<" in line and ">" in line:
                yield from inline_html_to_text(line, keep_one_line=False).split("\n")
            else:
                yield line

    def read(self) -> list[_Block]:
        in_toc = False
        blank_since_text = False
        for line in self._expanded():
            stripped = line.strip()
            if not stripped or _RULE_LINE.fullmatch(stripped) or (
                re.fullmatch(r"-\s*\d+\s*-|\d{1,3}", stripped)
            ):
                blank_since_text = True
                continue
            md = re.match(r"^(#{1,6})\s+(.*)$", stripped)
            if md:
                label = _clean_label(md.group(2))
                in_toc = label.replace(" ", "") in ("目次", "目 次")
                if in_toc:
                    continue
                heading = classify_heading(md.group(2), markdown_level=len(md.group(1)))
                if heading is not None:
                    self._heading(heading)
                blank_since_text = False
                continue
            if _TOC_LINE.search(stripped) and (
                in_toc
                or classify_heading(stripped, markdown_level=None)
                or stripped.startswith("【")
            ):
                continue
            if in_toc and not self.use_markdown:
                in_toc = False
            if "\t" in line:
                self._table_row(line.strip("\n\r \u3000"))
                blank_since_text = False
                continue
            lost = self._lost_heading(stripped) if self.use_markdown else None
            if lost is not None:
                self._heading(lost)
                blank_since_text = False
                continue
            if not self.use_markdown:
                heading = classify_heading(stripped, markdown_level=None)
                if (
                    heading is not None
                    and heading.style != "circled"
                    and len(stripped) <= 60
                    and "。" not in stripped  # 「1 つは、…ことである。システムの構築を…」 is prose
                ):
                    if self.stack.continues(heading, strict=self._paragraph_open()) or (
                        heading.number == 1 and not self._paragraph_open()
                    ):
                        self._heading(heading)
                    elif self._paragraph_open():
                        self.notes.append(stripped)  # a footnote interleaved in a sentence
                    else:
                        self._text(stripped, indented=False, after_blank=True)
                    continue
            self._text(
                stripped, indented=line.startswith((" ", "\u3000")), after_blank=blank_since_text
            )
            blank_since_text = False
        self._flush_notes()
        return _demote_empty_headings(self.blocks)

    def _lost_heading(self, line: str) -> Heading | None:
        """A bullet that continues the numbering of an open heading (「#### (1) …」 then
        「- (2) …」) is that heading's next sibling whose ``#`` the conversion lost; left as
        an item, its section would be filed under the previous sibling."""
        if not re.match(r"^[-*+]\s+\S", line):
            return None
        label = re.sub(r"^[-*+]\s+", "", line)
        heading = classify_heading(label, markdown_level=None)
        if (
            heading is None
            or heading.style.startswith("dec")
            or heading.style == "circled"
            or len(label) > 60
            or label.endswith(("。", "．"))
            or not self.stack.continues(heading, strict=True)
        ):
            return None
        return heading

    def _paragraph_open(self) -> bool:
        """A sentence is running on (so a numbered line here is a footnote, not a heading).

        A short unfinished line is a bare title (「現状と課題」), not a sentence.
        """
        last = self.blocks[-1] if self.blocks else None
        return bool(
            last
            and last.kind == "para"
            and not _is_finished(last.lines[-1])
            and len(last.lines[-1]) > 25
        )

    def _flush_notes(self) -> None:
        for note in self.notes:
            self.blocks.append(_Block(self.stack.path, "note", [note]))
        self.notes = []

    def _heading(self, heading: Heading) -> None:
        self._flush_notes()
        self.stack.push(heading)
        self.blocks.append(_Block(self.stack.path, "heading", [heading.label]))

    def _table_row(self, row: str) -> None:
        """A table line. One whose only text is in a later cell (「\t…の方法での、リモートアクセ」)
        is a cell the conversion wrapped onto the next line: it is joined to that cell of
        the row above instead of standing as a row (or a sentence fragment) of its own."""
        last = self.blocks[-1] if self.blocks else None
        cells = row.split("\t")
        filled = [i for i, cell in enumerate(cells) if cell.strip()]
        if last and last.kind == "table" and last.path == self.stack.path:
            if len(filled) == 1 and filled[0] > 0:
                above = last.lines[-1].split("\t")
                column = min(filled[0], len(above) - 1)
                above[column] = join_lines(above[column], cells[filled[0]].strip())
                last.lines[-1] = "\t".join(above)
            else:
                last.lines.append(row.strip())
            return
        self._flush_notes()
        self.blocks.append(_Block(self.stack.path, "table", [row.strip()]))

    def _text(self, text: str, *, indented: bool, after_blank: bool) -> None:
        path = self.stack.path
        last = self.blocks[-1] if self.blocks else None
        item = _is_item(text)
        if (
            last is not None
            and last.path == path
            and last.kind in ("para", "item")
            and not item
            and not _is_finished(last.lines[-1])
        ):
            last.lines[-1] = join_lines(last.lines[-1], text)
            if _is_finished(text):
                self._flush_notes()
            return
        self._flush_notes()
        self.blocks.append(
            _Block(path, "item" if item or (indented and not after_blank) else "para", [text])
        )


def _demote_empty_headings(blocks: list[_Block]) -> list[_Block]:
    """A heading with no body and no children was a list item: keep it as text of its parent."""
    result: list[_Block] = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if block.kind == "heading" and (
            following is None
            or (following.kind == "heading" and following.path[: len(block.path)] != block.path)
        ):
            result.append(_Block(block.path[:-1], "item", block.lines))
        else:
            result.append(block)
    return result


def _sentences(text: str) -> list[str]:
    parts = [part for part in _SENTENCE_END.split(text) if part.strip()]
    return parts or [text]


@dataclass
class _Unit:
    text: str
    glue: bool = False


def _units(blocks: list[_Block]) -> list[_Unit]:
    units: list[_Unit] = []
    pending_caption: _Unit | None = None
    for index, block in enumerate(blocks):
        if block.kind == "table":
            rows = block.lines
            caption = units.pop().text if units and pending_caption is units[-1] else ""
            for part in _table_parts(rows):
                units.append(_Unit("\n".join([caption, part]) if caption else part))
            pending_caption = None
            continue
        text = block.lines[0] if block.kind != "table" else ""
        if block.kind == "para":
            pieces = _sentences(text)
            units.extend(_Unit(piece) for piece in pieces)
        else:
            units.append(_Unit(text))
        last = units[-1]
        last.glue = bool(_GLUE_END.search(last.text.strip()))
        next_block = blocks[index + 1] if index + 1 < len(blocks) else None
        is_caption = len(last.text) <= 160 and (
            last.glue or re.match(r"^(表|図表|【)", last.text.replace("*", "")) is not None
        )
        pending_caption = last if next_block and next_block.kind == "table" and is_caption else None
    return units


def _table_parts(rows: list[str]) -> list[str]:
    text = "\n".join(rows)
    if len(text) <= MAX_TABLE_CHARS or len(rows) < 3:
        return [text]
    header, parts, current = rows[0], [], [rows[0]]
    for row in rows[1:]:
        if sum(len(r) + 1 for r in current) + len(row) > MAX_TABLE_CHARS and len(current) > 1:
            parts.append("\n".join(current))
            current = [header]
        current.append(row)
    parts.append("\n".join(current))
    return parts


def _pack(units: list[_Unit]) -> list[str]:
    passages: list[str] = []
    current: list[str] = []
    size = 0
    glued = False
    for unit in units:
        length = len(unit.text)
        if current and not glued and size + length > TARGET_CHARS:
            passages.append("\n".join(current))
            current, size = [], 0
        current.append(unit.text)
        size += length
        glued = unit.glue
    if current:
        passages.append("\n".join(current))
    return passages


def chunk_document(document: SourceDocument, *, title: str) -> list[Passage]:
    """Split one document into clause-level passages.

    Args:
        document: The read document.
        title: Citation title (from corpus.yaml).

    Returns:
        Passages in document order; ids are ``<content hash>-<position>``.

    Example:
        >>> doc = SourceDocument(Path("a.md"), "a.md", "abc", "# 1. 概要\\n本文です。")  # doctest: +SKIP
        >>> chunk_document(doc, title="A")[0].section  # doctest: +SKIP
        '1. 概要'
    """
    blocks = _Reader(document.text).read()
    passages: list[Passage] = []
    group: list[_Block] = []

    def flush() -> None:
        body = [block for block in group if block.kind != "heading"]
        if not body:
            return
        heading = [block.lines[0] for block in group if block.kind == "heading"]
        units = _units(body)
        texts = _pack(units)
        if heading:
            texts[0] = heading[-1] + "\n" + texts[0]
        section = SECTION_SEPARATOR.join(group[0].path)
        for text in texts:
            passages.append(
                Passage(
                    id=f"{document.digest}-{len(passages):04d}",
                    doc=document.name,
                    title=title,
                    section=section,
                    text=text,
                )
            )

    for block in blocks:
        if group and block.path != group[0].path:
            flush()
            group = []
        group.append(block)
    if group:
        flush()
    return _with_introduced_lists(passages, blocks, title=title)


def _with_introduced_lists(passages: list[Passage], blocks: list[_Block], *, title: str) -> list[Passage]:
    """Keep an introduction with its list: a section whose text introduces what follows
    (「成果物を以下に示す。」) but whose items are sub-headings gets those headings appended.

    (Separate outline passages for headings without text were measured too: they became
    hub passages and lowered both evaluation halves, so they are not made.)
    """
    children: dict[tuple[str, ...], list[str]] = {}
    for block in blocks:
        if block.kind == "heading" and len(block.path) >= 2:
            labels = children.setdefault(block.path[:-1], [])
            if block.path[-1] not in labels:
                labels.append(block.path[-1])
    last_of_section: dict[str, int] = {p.section: i for i, p in enumerate(passages)}
    result = list(passages)
    for parent, labels in children.items():
        index = last_of_section.get(SECTION_SEPARATOR.join(parent))
        if index is None:
            continue
        passage = result[index]
        if _INTRODUCES.search(passage.text.rstrip().splitlines()[-1]):
            outline = "\n".join(f"- {label}" for label in labels[:MAX_OUTLINE_CHILDREN])
            result[index] = Passage(
                id=passage.id, doc=passage.doc, title=title, section=passage.section,
                text=passage.text + "\n" + outline,
            )
    return result


def normalize_for_match(text: str) -> str:
    """NFKC and no whitespace: how evidence strings are matched against passages."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
