"""Reading documents: encodings, formats and the files that must be refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.documents import DocumentError, read_document

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
