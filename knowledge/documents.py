"""Read guideline documents (Markdown/text, PDF, DOCX, HTML) into plain text lines.

Every reader returns text in the same light-weight line format the chunker understands:
Markdown-style ``#`` headings where the source marks them, table rows as tab-separated
cells, everything else as lines.

Invariant: nothing a file contains makes :func:`read_document` / :func:`parse_document`
raise anything but :class:`DocumentError`, whose ``reason`` is a Japanese sentence an
administrator can act on. Malformed XML, a corrupt PDF, a recursion or memory error in a
parser all become a ``DocumentError``. Limits bound what one file can cost: its size on
disk (``max_bytes``), the unpacked size and compression ratio of a DOCX (zip bombs), and
the wall-clock time spent parsing it (``max_seconds``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import html
import io
import logging
import re
import signal
import stat
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = frozenset(
    {".md", ".markdown", ".txt", ".text", ".pdf", ".docx", ".html", ".htm"}
)
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Size limit on disk when the caller gives none (the settings' default)."""
DEFAULT_PARSE_SECONDS = 120.0
"""Wall-clock budget for parsing one file."""
DOCX_MAX_UNPACKED_BYTES = 256 * 1024 * 1024
"""Sum of the uncompressed sizes of a DOCX's members."""
DOCX_MAX_COMPRESSION_RATIO = 100
"""Uncompressed / compressed size of one member above which it is treated as a zip bomb
(Word's XML compresses 5-30x; a bomb 1000x)."""
DOCX_RATIO_CHECK_BYTES = 1024 * 1024
"""Members smaller than this are not ratio-checked (tiny XML compresses well and is harmless)."""
DOCX_MAX_MEMBERS = 10_000


class DocumentError(Exception):
    """A document that cannot be ingested; ``reason`` is Japanese, for the administrator."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{display_name(path)}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class SourceDocument:
    """One readable document: its key, content hash and text."""

    path: Path
    name: str
    """The document's key: its path relative to the documents folder (POSIX), which for
    a top-level file or a file given directly is the plain file name."""
    digest: str
    text: str


# --- names ----------------------------------------------------------------------------------


def safe_text(text: str) -> str:
    """``text`` with undecodable file-name bytes (surrogate escapes) shown as ``�``."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)


def display_name(path: Path) -> str:
    """The file name as text that can always be printed and stored."""
    return safe_text(path.name)


_NAME_CONTROL = re.compile("[\x00-\x1f\x7f]")


def name_problem(name: str) -> str | None:
    """Why a file name (or relative path) cannot be used as a document key, or None."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return (
            "ファイル名（またはフォルダ名）に UTF-8 として読めない文字が含まれています"
            "（Shift_JIS などで付けた名前の可能性があります）。名前を付け直してください。"
        )
    if _NAME_CONTROL.search(name):
        return "ファイル名に制御文字（改行など）が含まれています。名前を付け直してください。"
    return None


# --- digests ----------------------------------------------------------------------------------


def document_digest(data: bytes, name: str = "") -> str:
    """Content hash used in passage ids.

    A document in a subfolder (``name`` contains ``/``) also hashes its relative path, so
    identical copies in two folders get distinct passage ids; a top-level document keeps
    the plain content hash, so passage ids of existing indexes do not change.
    """
    digest = hashlib.sha256(data)
    if "/" in name:
        digest.update(b"\0" + name.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


# --- reading ----------------------------------------------------------------------------------

_OS_REASONS = {
    errno.ENOENT: "ファイルが見つかりません。パスを確認してください。",
    errno.EACCES: "読み取り権限がありません。ファイルの権限を確認してください。",
    errno.EPERM: "読み取り権限がありません。ファイルの権限を確認してください。",
    errno.EISDIR: "ファイルではなくフォルダです。",
    errno.ELOOP: "シンボリックリンクがループしています。リンクを直すか削除してください。",
    errno.ENAMETOOLONG: "パスが長すぎます。",
    errno.EIO: "ディスクの読み取りに失敗しました（入出力エラー）。",
}


def os_error_reason(error: OSError) -> str:
    """A Japanese reason for an OS error (``strerror`` is English, so it is not shown)."""
    if error.errno in _OS_REASONS:
        return _OS_REASONS[error.errno]
    code = errno.errorcode.get(error.errno or 0, str(error.errno))
    return f"ファイルを読めません（OS のエラー {code}）。"


def load_bytes(path: Path, *, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (checked before reading).

    Raises:
        DocumentError: Missing, not a regular file, unreadable, empty or too large.
    """
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError(
                path, "通常のファイルではありません（フォルダ・名前付きパイプなど）。"
            )
        _check_size(path, info.st_size, max_bytes)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except DocumentError:
        raise
    except RuntimeError as error:  # Path.stat on a symlink loop (Python 3.11)
        raise DocumentError(path, _OS_REASONS[errno.ELOOP]) from error
    except OSError as error:
        raise DocumentError(path, os_error_reason(error)) from error
    _check_size(path, len(data), max_bytes)
    return data


def _check_size(path: Path, size: int, max_bytes: int) -> None:
    if size == 0:
        raise DocumentError(path, "ファイルが空です。内容を確認してください。")
    if size > max_bytes:
        raise DocumentError(
            path,
            f"ファイルが大きすぎます（{size:,} バイト、上限 {max_bytes:,} バイト）。"
            "分割するか SOUDAN_MAX_DOCUMENT_BYTES を見直してください。",
        )


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            path, "対応していない形式です（Markdown・テキスト・PDF・DOCX・HTML に対応）。"
        )
    return suffix


def read_document(
    path: Path,
    *,
    max_bytes: int,
    name: str | None = None,
    max_seconds: float = DEFAULT_PARSE_SECONDS,
    max_unpacked_bytes: int = DOCX_MAX_UNPACKED_BYTES,
) -> SourceDocument:
    """Read one document file.

    Args:
        path: The file; its suffix selects the reader.
        max_bytes: Files larger than this are refused.
        name: The document key (default: the file name).
        max_seconds: Parsing that takes longer is abandoned and the file refused.
        max_unpacked_bytes: A DOCX whose members unpack to more than this is refused.

    Raises:
        DocumentError: Unsupported, empty, oversized, encrypted, corrupt, undecodable,
            too slow to parse, or badly named. Never any other exception.
    """
    _check_suffix(path)
    key = path.name if name is None else name
    problem = name_problem(key)
    if problem:
        raise DocumentError(path, problem)
    data = load_bytes(path, max_bytes=max_bytes)
    return parse_document(
        path, data, name=key, max_seconds=max_seconds, max_unpacked_bytes=max_unpacked_bytes
    )


def parse_document(
    path: Path,
    data: bytes,
    *,
    name: str | None = None,
    max_seconds: float = DEFAULT_PARSE_SECONDS,
    max_unpacked_bytes: int = DOCX_MAX_UNPACKED_BYTES,
) -> SourceDocument:
    """Turn the bytes of a document into a :class:`SourceDocument` (see :func:`read_document`)."""
    suffix = _check_suffix(path)
    key = path.name if name is None else name
    if not data:
        raise DocumentError(path, "ファイルが空です。内容を確認してください。")
    deadline = _Deadline(max_seconds)
    try:
        with _interrupt_at(deadline):
            if suffix == ".pdf":
                text = _pdf_text(path, data, deadline)
            elif suffix == ".docx":
                text = _docx_text(path, data, deadline, max_unpacked_bytes)
            elif suffix in (".html", ".htm"):
                text = html_to_lines(decode_text(path, data))
            else:
                text = decode_text(path, data)
    except DocumentError:
        raise
    except _ParseTimeout:
        raise DocumentError(
            path,
            f"読み取りに {max_seconds:g} 秒以上かかったため中止しました。"
            "文書を分割するか、別の形式（DOCX・テキスト）で保存し直してください。",
        ) from None
    except MemoryError:
        raise DocumentError(
            path, "メモリが足りず読み取れませんでした。文書を分割してください。"
        ) from None
    except RecursionError:
        raise DocumentError(
            path,
            "文書の構造の入れ子が深すぎるため読めません。ファイルが壊れている可能性があります。",
        ) from None
    except Exception as error:  # any parser failure is a property of the file
        raise DocumentError(path, _corrupt_reason(suffix, error)) from error
    if not text.strip():
        raise DocumentError(
            path, "本文を取り出せませんでした（文字のない文書、または画像だけの PDF です）。"
        )
    return SourceDocument(path=path, name=key, digest=document_digest(data, key), text=text)


def _corrupt_reason(suffix: str, error: BaseException) -> str:
    detail = type(error).__name__
    if suffix == ".pdf":
        return f"PDF が壊れているため読めません（{detail}）。"
    if suffix == ".docx":
        return f"DOCX が壊れているため読めません（{detail}）。Word で開いて保存し直してください。"
    return f"ファイルを読めません（{detail}）。"


# --- parse-time budget ---------------------------------------------------------------------


class _ParseTimeout(BaseException):
    """Raised when a file's parse budget is used up.

    A ``BaseException`` so that a parser's own ``except Exception`` cannot swallow it.
    """


class _Deadline:
    """A wall-clock deadline the readers check between pages, paragraphs and chunks."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise _ParseTimeout


@contextlib.contextmanager
def _interrupt_at(deadline: _Deadline) -> Iterator[None]:
    """Also interrupt a parser stuck inside one page or paragraph (pure-Python loops in
    pypdf) with ``SIGALRM`` when that is possible: Unix, the main thread, and no interval
    timer already running. Elsewhere the readers' own checks enforce the deadline."""
    remaining = deadline.remaining()
    if remaining <= 0:
        raise _ParseTimeout
    usable = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
        and signal.getsignal(signal.SIGALRM) is not None
    )
    if not usable:
        yield
        return

    armed = [True]

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        if armed[0]:  # a late alarm (already leaving the block) must not raise
            raise _ParseTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, remaining)
        yield
    finally:
        armed[0] = False  # first: Python runs signal handlers only at calls and jumps
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- text encodings ---------------------------------------------------------------------------


class EncodingProblem(Exception):
    """Text whose encoding cannot be trusted; ``reason`` is Japanese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
)
_CONTROL_BYTES = re.compile(b"[\x00-\x08\x0b\x0e-\x1f\x7f]")
"""C0 controls except tab, LF, form feed and CR (in ASCII-compatible encodings these
bytes are always characters, never part of a multi-byte one)."""
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_ISO2022_ESCAPE = re.compile(b"\x1b[$(][@BJDI]")
_UNDEFINED_CP932 = re.compile("[\x80\uf8f0-\uf8f3]")
"""What Python's CP932 codec yields for bytes CP932 leaves undefined."""
_HIRAGANA = re.compile("[\u3041-\u309f]")
_KATAKANA = re.compile("[\u30a0-\u30ff]")
_PUNCTUATION = re.compile("[\u3000-\u303f\uff01-\uff5e]")
_KANJI = re.compile("[\u4e00-\u9fff]")
_HALFWIDTH_KANA = re.compile("[\uff61-\uff9f]")
_IMPLAUSIBLE = re.compile("[\ue000-\uf8ff\ufffd]")
_SCORE_SAMPLE = 200_000


def decode_text(path: Path, data: bytes) -> str:
    """Decode a text file (see :func:`detect_encoding`); refusals are ``DocumentError``."""
    try:
        return detect_encoding(data)[0]
    except EncodingProblem as problem:
        raise DocumentError(path, problem.reason) from None


def detect_encoding(data: bytes) -> tuple[str, str]:
    """``(text, encoding)`` of Japanese text, or :class:`EncodingProblem` saying what is wrong.

    UTF-8/16/32 with a BOM are taken at their word; otherwise UTF-8, then CP932
    (Shift_JIS) and EUC-JP are tried strictly, and when both legacy encodings decode the
    bytes, the one that reads as Japanese (hiragana, kana, common kanji rather than
    half-width kana and private-use characters) wins. Files with NUL bytes or many control
    codes are binary; a few control characters are refused naming the first one.
    """
    for bom, encoding, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as error:
                if label == "UTF-32":
                    continue  # FF FE 00 00 may be UTF-16 LE text starting with U+0000
                line = data.count(b"\n", 0, error.start) + 1
                raise EncodingProblem(
                    f"文字コードを判別できません。先頭に {label} の BOM がありますが、"
                    f"{line} 行目付近に {label} として正しくないバイトがあります。"
                ) from None
            if re.search("[\ufeff\ufffe\uffff]", text):
                raise EncodingProblem(
                    f"文字コードを判別できません。先頭に {label} の BOM がありますが、"
                    f"内容が {label} のテキストではありません。"
                )
            _check_control_text(text)
            return text, encoding
    data = data.rstrip(b"\x1a")  # DOS end-of-file marker
    if b"\x00" in data:
        raise EncodingProblem(
            "バイナリファイルのため読めません（NUL バイトを含みます）。"
            "テキストなら UTF-8 で保存し直してください（UTF-16 なら BOM 付きで）。"
        )
    if b"\x1b" in data and _ISO2022_ESCAPE.search(data) and max(data) < 0x80:
        for encoding in ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            _check_control_text(text)
            return text, encoding
    controls = _CONTROL_BYTES.findall(data)
    if len(controls) > max(4, len(data) // 200):
        raise EncodingProblem(
            "バイナリファイルのため読めません（制御コードを多く含みます）。"
            "テキストなら UTF-8 で保存し直してください。"
        )
    if controls:
        match = _CONTROL_BYTES.search(data)
        assert match is not None
        raise EncodingProblem(
            _control_reason(match.group()[0], data.count(b"\n", 0, match.start()))
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        utf8_error = error
    else:
        _check_control_text(text)
        return text, "utf-8"
    candidates: list[tuple[int, str, str]] = []
    for encoding in ("cp932", "euc_jp"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _UNDEFINED_CP932.search(text):
            candidates.append((_japanese_score(text), encoding, text))
    lenient = data.decode("utf-8", "replace")
    broken = lenient.count("\ufffd")
    if broken <= max(3, len(lenient) // 100) and _japanese_score(lenient) >= max(
        (score for score, _, _ in candidates), default=0
    ):
        line = data.count(b"\n", 0, utf8_error.start) + 1
        raise EncodingProblem(
            f"文字コードを判別できません。UTF-8 のファイルのようですが、{line} 行目に "
            "UTF-8 として正しくないバイトがあります。文字化けした箇所を直して保存し直してください。"
        )
    if not candidates:
        raise EncodingProblem(
            "文字コードを判別できません（UTF-8・Shift_JIS (CP932)・EUC-JP のいずれとしても"
            "読めません）。UTF-8 で保存し直してください。"
        )
    _score, encoding, text = max(candidates, key=lambda candidate: candidate[0])
    sample = text[:_SCORE_SAMPLE]
    if len(_IMPLAUSIBLE.findall(sample)) * 20 > len(sample):
        raise EncodingProblem(
            "文字コードを判別できません（Shift_JIS・EUC-JP として読むと外字や未定義の文字が"
            "多すぎます）。UTF-8 で保存し直してください。"
        )
    _check_control_text(text)
    return text, encoding


def _japanese_score(text: str) -> int:
    """How much ``text`` reads like Japanese: kana and kanji count for, half-width kana and
    private-use characters (what a wrong legacy decoding produces) against."""
    sample = text[:_SCORE_SAMPLE]
    return (
        3 * len(_HIRAGANA.findall(sample))
        + 2 * len(_KATAKANA.findall(sample))
        + 2 * len(_PUNCTUATION.findall(sample))
        + len(_KANJI.findall(sample))
        - 2 * len(_HALFWIDTH_KANA.findall(sample))
        - 4 * len(_IMPLAUSIBLE.findall(sample))
    )


def _check_control_text(text: str) -> None:
    controls = _CONTROL_CHARS.findall(text)
    if not controls:
        return
    if "\x00" in controls or len(controls) > max(4, len(text) // 200):
        raise EncodingProblem(
            "バイナリファイルのため読めません（NUL や制御コードを含みます）。"
            "テキストなら UTF-8 で保存し直してください。"
        )
    match = _CONTROL_CHARS.search(text)
    assert match is not None
    raise EncodingProblem(_control_reason(ord(match.group()), text.count("\n", 0, match.start())))


def _control_reason(code: int, newlines_before: int) -> str:
    return (
        f"制御文字（U+{code:04X}）が含まれています（{newlines_before + 1} 行目）。"
        "テキストエディタで取り除いて保存し直してください。"
    )


# --- PDF ----------------------------------------------------------------------------------------


class _Collect(logging.Handler):
    """Counts records and keeps the first few messages."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.messages) < 5:
            with contextlib.suppress(Exception):
                self.messages.append(record.getMessage())


@contextlib.contextmanager
def _quiet_pdf_library() -> Iterator[None]:
    """Keep pypdf's warnings off the console (with no logging configured they reach stderr
    in English through logging's last-resort handler); log them at DEBUG instead."""
    logger = logging.getLogger("pypdf")
    handler = _Collect()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        for message in handler.messages:
            log.debug("pypdf: %s", message)
        if handler.count > len(handler.messages):
            log.debug("pypdf: %d more messages", handler.count - len(handler.messages))
        for warning in caught[:5]:
            log.debug("pypdf warning: %s", warning.message)


def _pdf_text(path: Path, data: bytes, deadline: _Deadline) -> str:
    from pypdf import PasswordType, PdfReader

    with _quiet_pdf_library():
        reader = PdfReader(io.BytesIO(data))
        deadline.check()
        if reader.is_encrypted:
            # Protected against editing or printing only: the empty user password opens it.
            try:
                opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
            except Exception:
                opened = False
            if not opened:
                raise DocumentError(
                    path,
                    "PDF がパスワードで保護されています。保護を解除したファイルを置いてください。",
                )
        pages: list[str] = []
        for page in reader.pages:
            deadline.check()
            pages.append(page.extract_text() or "")
    return "\n\n".join(pages)


# --- DOCX ---------------------------------------------------------------------------------------


def _check_docx_archive(path: Path, data: bytes, max_unpacked_bytes: int) -> None:
    """Refuse zip bombs before python-docx unpacks anything.

    ``zipfile`` never returns more than a member's declared ``file_size`` (and fails on a
    CRC mismatch), so the declared sizes bound what unpacking can cost.
    """
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as error:
        raise DocumentError(
            path, "DOCX が壊れているため読めません（ZIP 形式として読めません）。"
        ) from error
    if len(members) > DOCX_MAX_MEMBERS:
        raise DocumentError(
            path,
            f"DOCX の中のファイルが多すぎます（{len(members):,} 個）。壊れている可能性があります。",
        )
    unpacked = sum(member.file_size for member in members)
    if unpacked > max_unpacked_bytes:
        raise DocumentError(
            path,
            f"DOCX を展開すると大きすぎます（展開後 {unpacked:,} バイト、上限 "
            f"{max_unpacked_bytes:,} バイト）。圧縮爆弾の可能性があるため読みません。",
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > DOCX_RATIO_CHECK_BYTES and ratio > DOCX_MAX_COMPRESSION_RATIO:
            raise DocumentError(
                path,
                f"DOCX の中のファイルの圧縮率が異常に高い（{ratio:,.0f} 倍）ため読みません。"
                "圧縮爆弾の可能性があります。",
            )


def _docx_text(path: Path, data: bytes, deadline: _Deadline, max_unpacked_bytes: int) -> str:
    _check_docx_archive(path, data, max_unpacked_bytes)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    deadline.check()
    style_names, default_style = _paragraph_style_names(document)
    lines: list[str] = []
    for item in document.iter_inner_content():
        deadline.check()
        if isinstance(item, Paragraph):
            text = item.text.strip()
            # ``item.style`` would resolve the style through XPath over all styles for
            # every paragraph (milliseconds each); the names are looked up once instead.
            style_id = item._p.style
            style = style_names.get(style_id, default_style) if style_id else default_style
            match = re.match(r"Heading (\d)", style)
            if text and match:
                lines.append("#" * int(match.group(1)) + " " + text)
            else:
                lines.append(text)
        elif isinstance(item, Table):
            lines.append("")
            for row in item.rows:
                deadline.check()
                lines.append("\t".join(_row_cell_texts(row)))
            lines.append("")
    return "\n".join(lines)


def _paragraph_style_names(document: Any) -> tuple[dict[str, str], str]:
    """``(style id -> UI name, default name)`` of the paragraph styles, resolved the way
    ``Paragraph.style`` does: the first ``w:style`` with an id wins, a style of another
    type counts as missing, and a missing style means the last default paragraph style."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.styles import BabelFish

    first: dict[str, tuple[Any, str]] = {}
    default = ""
    for style in document.styles.element.style_lst:
        try:  # one malformed style must not cost the document; it just is no heading
            paragraph = style.type == WD_STYLE_TYPE.PARAGRAPH
            name = style.name_val
            ui_name = BabelFish.internal2ui(name) if name is not None else ""
            if paragraph and style.default:
                default = ui_name or ""
            style_id = style.styleId
        except Exception:
            continue
        if style_id and style_id not in first:
            first[style_id] = (paragraph, ui_name or "")
    return {sid: name for sid, (paragraph, name) in first.items() if paragraph}, default


_MAX_GRID_COLUMNS = 1000
"""Word allows 63 columns; a row spanning more is malformed (``gridSpan="1000000000"``
would make ``row.cells`` yield a billion cells)."""


def _row_cell_texts(row: Any) -> list[str]:
    from docx.table import _Cell

    tcs = row._tr.tc_lst
    cells: Any = None
    try:
        if sum(tc.grid_span for tc in tcs) <= _MAX_GRID_COLUMNS:
            cells = row.cells
    except Exception:  # a malformed span or vertical merge
        cells = None
    if cells is None:  # fall back to the cells as written
        cells = [_Cell(tc, row.table) for tc in tcs]
    return [cell.text.replace("\n", " ").strip() for cell in cells]


# --- HTML -----------------------------------------------------------------------------------------


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
    """Turn an HTML document into the line format.

    Fed in one piece: ``HTMLParser`` rescans an unclosed construct on every ``feed``, so
    feeding in chunks could turn one stray ``<!--`` quadratic.
    """
    parser = _HtmlLines()
    parser.feed(source)
    parser.close()
    parser._flush()
    return "\n".join(parser.lines)


_TAG = re.compile(r"<[^>]+>")


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
