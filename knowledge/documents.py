"""Read guideline documents (Markdown/text, PDF, DOCX, HTML) into plain text lines.

Every reader returns text in the same light-weight line format the chunker understands:
Markdown-style ``#`` headings where the source marks them, table rows as tab-separated
cells, everything else as lines. A file that cannot be read raises
:class:`DocumentError` whose ``reason`` is a Japanese sentence an administrator can act on.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

SUPPORTED_SUFFIXES = frozenset(
    {".md", ".markdown", ".txt", ".text", ".pdf", ".docx", ".html", ".htm"}
)


class DocumentError(Exception):
    """A document that cannot be ingested; ``reason`` is Japanese, for the administrator."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class SourceDocument:
    """One readable document: its file name, content hash and text."""

    path: Path
    name: str
    digest: str
    text: str


def document_digest(data: bytes) -> str:
    """Content hash used in chunk ids and for change detection."""
    return hashlib.sha256(data).hexdigest()[:16]


def read_document(path: Path, *, max_bytes: int) -> SourceDocument:
    """Read one document file.

    Args:
        path: The file; its suffix selects the reader.
        max_bytes: Files larger than this are refused.

    Raises:
        DocumentError: Unsupported, empty, oversized, encrypted, corrupt or undecodable.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            path, "対応していない形式です（Markdown・テキスト・PDF・DOCX・HTML に対応）。"
        )
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(path, "ファイルが空です。内容を確認してください。")
    if size > max_bytes:
        raise DocumentError(
            path,
            f"ファイルが大きすぎます（{size:,} バイト、上限 {max_bytes:,} バイト）。"
            "分割するか SOUDAN_MAX_DOCUMENT_BYTES を見直してください。",
        )
    data = path.read_bytes()
    if suffix == ".pdf":
        text = _pdf_text(path, data)
    elif suffix == ".docx":
        text = _docx_text(path, data)
    elif suffix in (".html", ".htm"):
        text = html_to_lines(decode_text(path, data))
    else:
        text = decode_text(path, data)
    if not text.strip():
        raise DocumentError(
            path, "本文を取り出せませんでした（文字のない文書、または画像だけの PDF です）。"
        )
    return SourceDocument(path=path, name=path.name, digest=document_digest(data), text=text)


def decode_text(path: Path, data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or CP932/Shift_JIS text without mojibake."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp932", "euc_jp"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # CP932 maps a few undefined bytes to private-use or control characters; text
        # containing those was not really CP932 (or is binary), so it is refused.
        if not _IMPLAUSIBLE.search(text):
            return text
    raise DocumentError(
        path, "文字コードを判別できません。UTF-8 または Shift_JIS (CP932) で保存し直してください。"
    )


def _pdf_text(path: Path, data: bytes) -> str:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(
                path, "PDF がパスワードで保護されています。保護を解除したファイルを置いてください。"
            )
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise DocumentError(
            path, f"PDF が壊れているため読めません（{type(error).__name__}）。"
        ) from error
    return "\n\n".join(pages)


def _docx_text(path: Path, data: bytes) -> str:
    import io
    import zipfile

    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise DocumentError(path, "DOCX が壊れているため読めません。") from error
    lines: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            style = (item.style.name if item.style is not None else "") or ""
            match = re.match(r"Heading (\d)", style)
            if text and match:
                lines.append("#" * int(match.group(1)) + " " + text)
            else:
                lines.append(text)
        elif isinstance(item, Table):
            lines.append("")
            for row in item.rows:
                lines.append("\t".join(cell.text.replace("\n", " ").strip() for cell in row.cells))
            lines.append("")
    return "\n".join(lines)


class _HtmlLines(HTMLParser):
    """Flatten HTML into lines: headings as ``#``, table rows as tab-separated cells."""

    _BLOCK = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "ul",
            "ol",
            "section",
            "article",
            "tr",
            "table",
            "dd",
            "dt",
            "blockquote",
            "pre",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip = 0

    def _flush(self) -> None:
        line = "".join(self.current).strip()
        if line:
            self.lines.append(line)
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self.current.append("#" * int(tag[1]) + " ")
        elif tag in ("td", "th"):
            if self.current:
                self.current.append("\t")
        elif tag in self._BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in self._BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(re.sub(r"\s+", " ", data))


def html_to_lines(source: str) -> str:
    """Turn an HTML document into the line format."""
    parser = _HtmlLines()
    parser.feed(source)
    parser.close()
    parser._flush()
    return "\n".join(parser.lines)


_TAG = re.compile(r"<[^>]+>")
_IMPLAUSIBLE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd]")


def inline_html_to_text(line: str, *, keep_one_line: bool) -> str:
    """Flatten an HTML fragment embedded in a Markdown line (PDF conversions leave these).

    Args:
        line: The source line.
        keep_one_line: True for table cells (list items become ``・`` within the cell),
            False for body text (list items and paragraphs become lines of their own).
    """
    if "<" not in line:
        return line
    separator = " " if keep_one_line else "\n"
    text = re.sub(r"<li[^>]*>\s*(?![・●○])", separator + "・", line, flags=re.IGNORECASE)
    text = re.sub(r"<li[^>]*>", separator, text, flags=re.IGNORECASE)
    text = re.sub(r"</?(p|br|ul|ol|div)[^>]*>", separator, text, flags=re.IGNORECASE)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    if keep_one_line:
        return re.sub(r" {2,}", " ", text).strip()
    return "\n".join(part.strip() for part in text.split("\n") if part.strip())
