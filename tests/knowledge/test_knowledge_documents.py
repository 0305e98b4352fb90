"""Reading documents: encodings, formats and the files that must be refused."""

from __future__ import annotations

import io
import logging
import os
import signal
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge import documents
from knowledge.documents import DocumentError, document_digest, read_document

from .document_samples import make_pdf

LIMIT = 1_000_000


def test_cp932_file_decodes_without_mojibake(tmp_path: Path) -> None:
    path = tmp_path / "sjis.txt"
    path.write_bytes("① ㈱髙橋商事の見積書を確認する。".encode("cp932"))
    text = read_document(path, max_bytes=LIMIT).text
    assert text == "① ㈱髙橋商事の見積書を確認する。"
    assert "\ufffd" not in text


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes("\ufeff# 1. 概要\n本文です。".encode())
    assert read_document(path, max_bytes=LIMIT).text.startswith("# 1. 概要")


def test_docx_headings_and_tables_are_kept(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("1. 調達の概要", level=1)
    document.add_paragraph("所管課は仕様書を作成する。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "項目", "内容"
    table.cell(1, 0).text, table.cell(1, 1).text = "見積書", "積算根拠を示す"
    path = tmp_path / "guide.docx"
    document.save(str(path))
    text = read_document(path, max_bytes=LIMIT).text
    assert "# 1. 調達の概要" in text
    assert "見積書\t積算根拠を示す" in text


def test_html_is_flattened_to_lines(tmp_path: Path) -> None:
    path = tmp_path / "guide.html"
    path.write_text(
        "<html><body><h2>2. 運用</h2><p>月次報告書を提出する。</p>"
        "<table><tr><td>期限</td><td>毎月末</td></tr></table><script>x()</script></body></html>",
        "utf-8",
    )
    text = read_document(path, max_bytes=LIMIT).text
    assert text.splitlines() == ["## 2. 運用", "月次報告書を提出する。", "期限\t毎月末"]


def _reason(path: Path, *, max_bytes: int = LIMIT) -> str:
    with pytest.raises(DocumentError) as raised:
        read_document(path, max_bytes=max_bytes)
    return raised.value.reason


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(b"")
    assert "空" in _reason(path)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    path.write_text("あ" * 100, "utf-8")
    assert "大きすぎ" in _reason(path, max_bytes=50)


def test_undecodable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "binary.txt"
    path.write_bytes(b"\xff\xfe\xfd\x80\x81\xa0" * 10)
    assert "文字コード" in _reason(path)


def test_corrupt_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n this is not really a pdf")
    assert "PDF" in _reason(path)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret-password")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    assert "パスワード" in _reason(path)


def test_unsupported_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(b"PK\x03\x04")
    assert "形式" in _reason(path)


# --- encodings: each one read correctly, or refused saying what was wrong ---------------------

JAPANESE = "第1条 目的\n本要綱は、所管課がICT調達の仕様書を作成する手続を定める。"


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("utf-8", JAPANESE.encode()),
        ("utf-8-sig", "\ufeff".encode() + JAPANESE.encode()),
        ("utf-16-le", b"\xff\xfe" + JAPANESE.encode("utf-16-le")),
        ("utf-16-be", b"\xfe\xff" + JAPANESE.encode("utf-16-be")),
        ("cp932", JAPANESE.encode("cp932")),
        ("euc_jp", JAPANESE.encode("euc_jp")),
        ("iso2022_jp", JAPANESE.encode("iso2022_jp")),
    ],
)
def test_each_encoding_is_read_without_mojibake(tmp_path: Path, encoding: str, data: bytes) -> None:
    path = tmp_path / f"{encoding}.txt"
    path.write_bytes(data)
    assert read_document(path, max_bytes=LIMIT).text == JAPANESE


@pytest.mark.parametrize("text", ["契約", "情報政策課", "システム", "①㈱髙橋", "ｼｽﾃﾑの見積"])
def test_short_legacy_texts_are_not_confused(tmp_path: Path, text: str) -> None:
    """EUC-JP must not be read as CP932 (both decode many byte strings) and vice versa."""
    for encoding in ("cp932", "euc_jp"):
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            continue  # ① ㈱ 髙 are CP932-only
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes(data)
        assert read_document(path, max_bytes=LIMIT).text == text, encoding


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PNG\x00\x00\x01binary\x00data", "バイナリ"),
        (bytes(range(1, 32)) * 20, "バイナリ"),
        ("一行目\n二行目に\x07ベル\n".encode(), "制御文字（U+0007）が含まれています（2 行目）"),
        ("一行目\n\x1b[31m色付き\n".encode(), "制御文字（U+001B）"),
        ("所管課は仕様書を作成する。\n見積".encode() + b"\xff" + "書。".encode(), "2 行目"),
        (b"\xff\xfe" + "本文".encode("utf-16-le") + b"\x00\xd8", "UTF-16"),
        ("本文\ufeff途中".encode("utf-16"), "UTF-16 のテキストではありません"),
        (b"caf\xe9 ol\xe9 \xe0 la carte" * 3, "文字コードを判別できません"),
    ],
)
def test_undecodable_text_is_refused_with_what_was_wrong(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    assert expected in _reason(path)


def test_euc_jp_html_is_read(tmp_path: Path) -> None:
    path = tmp_path / "guide.html"
    path.write_bytes("<h1>運用</h1><p>月次報告書を提出する。</p>".encode("euc_jp"))
    assert read_document(path, max_bytes=LIMIT).text == "# 運用\n月次報告書を提出する。"


# --- names ------------------------------------------------------------------------------------


def test_undecodable_file_name_is_refused_in_japanese(tmp_path: Path) -> None:
    raw = os.path.join(os.fsencode(tmp_path), b"\x83K\x83C\x83h.txt")  # ガイド in CP932
    with open(raw, "wb") as handle:
        handle.write("本文".encode())
    (path,) = tmp_path.iterdir()
    with pytest.raises(DocumentError) as raised:
        read_document(path, max_bytes=LIMIT)
    assert "UTF-8" in raised.value.reason and "名前" in raised.value.reason
    assert "\ufffd" in str(raised.value)  # printable
    str(raised.value).encode("utf-8")


def test_subfolder_documents_get_distinct_digests(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    path = tmp_path / "a" / "guide.md"
    path.write_text("# 1. 概要\n本文です。\n", "utf-8")
    top = read_document(path, max_bytes=LIMIT)
    nested = read_document(path, max_bytes=LIMIT, name="a/guide.md")
    assert top.name == "guide.md" and nested.name == "a/guide.md"
    assert top.digest == document_digest(path.read_bytes())  # top level: ids unchanged
    assert nested.digest != top.digest


# --- DOCX ---------------------------------------------------------------------------------------


def _reference_docx_lines(path: Path) -> str:
    """The former reader, through python-docx's ``paragraph.style`` (slow but canonical)."""
    import re

    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for item in docx.Document(str(path)).iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            style = (item.style.name if item.style is not None else "") or ""
            match = re.match(r"Heading (\d)", style)
            lines.append("#" * int(match.group(1)) + " " + text if text and match else text)
        elif isinstance(item, Table):
            lines.append("")
            for row in item.rows:
                lines.append("\t".join(c.text.replace("\n", " ").strip() for c in row.cells))
            lines.append("")
    return "\n".join(lines)


def _rewrite_docx(source: Path, target: Path, edit: dict[str, Callable[[str], str]]) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename in edit:
                data = edit[info.filename](data.decode("utf-8")).encode("utf-8")
            new.writestr(info.filename, data)


def test_docx_output_matches_python_docx_styles_for_japanese_style_ids(tmp_path: Path) -> None:
    """Japanese Word names heading styles by number (styleId "1" = heading 1); ids that are
    missing or name a character style fall back to the default paragraph style."""
    import docx

    document = docx.Document()
    document.add_heading("1. 調達の概要", level=1)
    document.add_paragraph("所管課は仕様書を作成する。")
    document.add_heading("1.1 手続", level=2)
    document.add_paragraph("見出しではない段落", style="Title")
    document.add_paragraph("MISSING-STYLE 段落")
    document.add_paragraph("CHAR-STYLE 段落")
    document.add_paragraph("")
    table = document.add_table(rows=3, cols=3)
    for r in range(3):
        for c in range(3):
            table.cell(r, c).text = f"セル{r}{c}"
    table.cell(0, 0).merge(table.cell(0, 1))
    table.cell(1, 2).merge(table.cell(2, 2))
    table.cell(1, 0).text = "二行\n目"
    document.add_heading("2. 運用", level=1)
    plain = tmp_path / "plain.docx"
    document.save(str(plain))

    def japanese_ids(xml: str) -> str:
        return xml.replace('"Heading1"', '"1"').replace('"Heading2"', '"2"')

    def odd_ids(xml: str) -> str:
        xml = japanese_ids(xml)
        xml = xml.replace("<w:t>MISSING-STYLE", '<w:t xml:space="preserve">MISSING-STYLE', 1)
        for marker, style in (
            ("MISSING-STYLE", "NoSuchStyle"),
            ("CHAR-STYLE", "DefaultParagraphFont"),
        ):
            start = xml.index(marker)
            p_start = xml.rindex("<w:p>", 0, start)
            xml = (
                xml[:p_start]
                + f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>'
                + xml[p_start + 5 :]
            )
        return xml

    japanese = tmp_path / "japanese.docx"
    _rewrite_docx(plain, japanese, {"word/styles.xml": japanese_ids, "word/document.xml": odd_ids})
    for path in (plain, japanese):
        text = read_document(path, max_bytes=LIMIT).text
        assert text == _reference_docx_lines(path)
        assert "# 1. 調達の概要" in text and "## 1.1 手続" in text
        assert "\nMISSING-STYLE 段落\n" in text and "\nCHAR-STYLE 段落\n" in text
        assert "セル00 セル01\tセル00 セル01\tセル02" in text and "二行 目\tセル11\tセル12" in text


def test_malformed_docx_xml_is_refused(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("本文")
    source = tmp_path / "source.docx"
    document.save(str(source))
    broken = tmp_path / "broken.docx"
    _rewrite_docx(source, broken, {"word/document.xml": lambda xml: xml[: len(xml) // 2]})
    assert "DOCX が壊れている" in _reason(broken)


def _bomb(path: Path, *, member_bytes: int) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b" " * member_bytes)


def test_docx_zip_bomb_is_refused_by_compression_ratio(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    _bomb(path, member_bytes=8 * 1024 * 1024)
    assert path.stat().st_size < 100_000
    reason = _reason(path)
    assert "圧縮率" in reason and "圧縮爆弾" in reason


def test_docx_unpacked_size_is_limited(tmp_path: Path) -> None:
    path = tmp_path / "big.docx"
    _bomb(path, member_bytes=512 * 1024)
    with pytest.raises(DocumentError) as raised:
        read_document(path, max_bytes=LIMIT, max_unpacked_bytes=256 * 1024)
    assert "展開後" in raised.value.reason and "上限" in raised.value.reason


def test_large_docx_is_read_quickly(tmp_path: Path) -> None:
    """2,000 paragraphs among 200 styles took ~3 s through ``paragraph.style``."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE

    document = docx.Document()
    for i in range(200):
        document.styles.add_style(f"Custom {i}", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("BODY")
    plain = tmp_path / "plain.docx"
    document.save(str(plain))

    def paragraph(style: str, text: str) -> str:
        return f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>'

    body = "".join(
        paragraph("Heading1", f"{i}. 節")
        + "".join(paragraph(f"Custom{k}", "所管課は仕様書を作成する。") for k in range(4))
        for i in range(400)
    )
    path = tmp_path / "large.docx"
    _rewrite_docx(plain, path, {"word/document.xml": lambda xml: xml.replace(_BODY, body, 1)})
    started = time.perf_counter()
    text = read_document(path, max_bytes=LIMIT).text
    assert time.perf_counter() - started < 1.5
    assert text.count("\n# ") == 399 and text.count("所管課") == 1600


_BODY = "<w:p><w:r><w:t>BODY</w:t></w:r></w:p>"


# --- parse-time budget ----------------------------------------------------------------------


def test_parse_time_budget_interrupts_a_stuck_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stuck(*args: object) -> str:
        while True:
            pass

    monkeypatch.setattr(documents, "_pdf_text", stuck)
    path = tmp_path / "slow.pdf"
    path.write_bytes(b"%PDF-1.4 any")
    with pytest.raises(DocumentError) as raised:
        read_document(path, max_bytes=LIMIT, max_seconds=0.3)
    assert "0.3 秒以上かかったため中止しました" in raised.value.reason
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0


def test_parse_time_budget_holds_outside_the_main_thread(tmp_path: Path) -> None:
    """No signals there: the readers check the deadline between paragraphs."""
    import docx

    document = docx.Document()
    for _ in range(300):
        document.add_paragraph("段落")
    path = tmp_path / "many.docx"
    document.save(str(path))
    errors: list[DocumentError] = []

    def run() -> None:
        try:
            read_document(path, max_bytes=LIMIT, max_seconds=1e-9)
        except DocumentError as error:
            errors.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    assert "秒以上かかったため中止" in errors[0].reason


# --- PDF ------------------------------------------------------------------------------------------


def test_pdf_library_warnings_are_not_printed(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    data = make_pdf(["Procurement guideline"])
    path = tmp_path / "warns.pdf"
    path.write_bytes(
        data.replace(b"startxref\n", b"startxref\n9").replace(b"/Count 1", b"/Count 2")
    )
    with caplog.at_level(logging.WARNING):
        text = read_document(path, max_bytes=LIMIT).text
    assert "Procurement guideline" in text
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]


def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Owner only"]))))
    writer.encrypt(user_password="", owner_password="owner-secret")
    path = tmp_path / "print-protected.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    assert "Owner only" in read_document(path, max_bytes=LIMIT).text
