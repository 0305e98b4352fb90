"""Document files built in the tests: a valid DOCX / PDF / text file and seeded mutations of
each (byte flips, truncations, malformed XML inside the DOCX zip, broken PDF structure,
broken encodings), for the loader fuzz test."""

from __future__ import annotations

import io
import random
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

SAMPLE_TEXT = "第1条 目的\n本要綱は、所管課がICT調達の仕様書を作成する手続を定める。\n"


def make_docx() -> bytes:
    """A small DOCX with headings, body text and a table with merged cells."""
    import docx

    document = docx.Document()
    document.add_heading("1. 調達の概要", level=1)
    document.add_paragraph("所管課は仕様書を作成し、CIO補佐と協議する。")
    document.add_heading("1.1 見積", level=2)
    document.add_paragraph("見積書には積算根拠を示す。")
    table = document.add_table(rows=3, cols=3)
    for r in range(3):
        for c in range(3):
            table.cell(r, c).text = f"項目{r}{c}"
    table.cell(0, 0).merge(table.cell(0, 1))
    table.cell(1, 2).merge(table.cell(2, 2))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF (Helvetica, ASCII text) with a correct cross-reference table."""
    content = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for line in lines
    )
    stream = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


# --- mutations --------------------------------------------------------------------------------


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    mutated = bytearray(data)
    for _ in range(rng.randint(1, 24)):
        position = rng.randrange(len(mutated))
        mutated[position] ^= rng.randint(1, 255)
    return bytes(mutated)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(1, len(data))]


_XML_EDITS: list[Callable[[random.Random, str], str]] = [
    lambda rng, xml: xml[: rng.randrange(len(xml))],
    lambda rng, xml: _cut(rng, xml),
    lambda rng, xml: _insert(
        rng, xml, rng.choice(["<", "&bogus;", "<w:p>", "]]>", "<!--", "\x01"])
    ),
    lambda rng, xml: xml.replace("</w:p>", "</w:q>", 1),
    lambda rng, xml: xml.replace("w:", "x:", 1),
    lambda rng, xml: xml + xml,
    lambda rng, xml: _insert(rng, xml, '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>'),
    lambda rng, xml: xml.replace('w:val="', 'w:val="\u0000', 1),
    lambda rng, xml: xml.replace(
        "<w:tc>", '<w:tc><w:tcPr><w:gridSpan w:val="1000000000"/></w:tcPr>', 1
    ),
    lambda rng, xml: xml.replace(
        "<w:tc>", '<w:tc><w:tcPr><w:vMerge w:val="continue"/></w:tcPr>', 1
    ),
    lambda rng, xml: xml.replace("<w:tc>", '<w:tc><w:tcPr><w:gridSpan w:val="-3"/></w:tcPr>', 1),
    lambda rng, xml: xml.replace('w:type="paragraph"', 'w:type="bogus"', 1),
    lambda rng, xml: _nest(xml),
]
_DOCX_PARTS = [
    "word/document.xml",
    "word/document.xml",
    "word/document.xml",
    "word/styles.xml",
    "[Content_Types].xml",
    "_rels/.rels",
    "word/_rels/document.xml.rels",
]


def _cut(rng: random.Random, xml: str) -> str:
    start = rng.randrange(len(xml))
    return xml[:start] + xml[start + rng.randint(1, 400) :]


def _insert(rng: random.Random, xml: str, text: str) -> str:
    position = rng.randrange(len(xml))
    return xml[:position] + text + xml[position:]


def _nest(xml: str) -> str:
    """3,000 nested elements just inside the root element."""
    depth = 3000
    inside = xml.index(">", xml.index("?>") + 2) + 1
    return xml[:inside] + "<w:p>" * depth + "</w:p>" * depth + xml[inside:]


def mutate_docx_xml(rng: random.Random, data: bytes) -> bytes:
    """Rewrite the zip with one part made malformed, dropped, or duplicated."""
    target = rng.choice(_DOCX_PARTS)
    action = rng.random()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zipped,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")  # zipfile's "Duplicate name" is intended
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == target:
                if action < 0.1:
                    continue  # the part is missing
                if action < 0.15:
                    zipped.writestr(info.filename, part)  # a duplicate member
                edit = rng.choice(_XML_EDITS)
                part = edit(rng, part.decode("utf-8")).encode("utf-8", "surrogatepass")
            zipped.writestr(info.filename, part)
    return out.getvalue()


_PDF_EDITS: list[Callable[[random.Random, bytes], bytes]] = [
    lambda rng, pdf: pdf.replace(b"/Count 1", b"/Count 99999"),
    lambda rng, pdf: pdf.replace(b"/Kids [3 0 R]", b"/Kids [2 0 R]"),
    lambda rng, pdf: pdf.replace(b"/Parent 2 0 R", b"/Parent 3 0 R").replace(
        b"/Kids [3 0 R]", b"/Kids [3 0 R 3 0 R]"
    ),
    lambda rng, pdf: pdf.replace(b"/Contents 4 0 R", b"/Contents 9 0 R"),
    lambda rng, pdf: pdf.replace(b"/Length ", b"/Length 9", 1),
    lambda rng, pdf: pdf.replace(b"/Length ", b"/Length -", 1),
    lambda rng, pdf: pdf.replace(b"startxref\n", b"startxref\n7"),
    lambda rng, pdf: pdf.replace(b"xref\n0 6", b"xref\n0 60"),
    lambda rng, pdf: pdf.replace(b"/Root 1 0 R", b"/Root 2 0 R"),
    lambda rng, pdf: pdf.replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt 5 0 R"),
    lambda rng, pdf: pdf.replace(b"BT ", b"BT " + b"[" * 5000, 1),
    lambda rng, pdf: pdf.replace(b"<< /Type /Catalog", b"<< /Type /Catalog " + b"<< /A " * 2000, 1),
    lambda rng, pdf: pdf.replace(b"/F1 12 Tf", b"/F9 12 Tf"),
    lambda rng, pdf: pdf.replace(b"<< /Length", b"<< /Filter /FlateDecode /Length", 1),
    lambda rng, pdf: pdf.replace(b"%%EOF", b""),
]


def mutate_pdf_structure(rng: random.Random, data: bytes) -> bytes:
    return rng.choice(_PDF_EDITS)(rng, data)


def text_samples(rng: random.Random, count: int) -> list[tuple[str, bytes]]:
    """``count`` (suffix, bytes) text files: mutated encodings, control codes, broken HTML."""
    makers: list[Callable[[], tuple[str, bytes]]] = [
        lambda: (".txt", bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))),
        lambda: (".txt", flip_bytes(rng, SAMPLE_TEXT.encode("utf-8"))),
        lambda: (".txt", flip_bytes(rng, SAMPLE_TEXT.encode("cp932"))),
        lambda: (".md", flip_bytes(rng, SAMPLE_TEXT.encode("euc_jp"))),
        lambda: (".txt", truncate(rng, SAMPLE_TEXT.encode("utf-16"))),
        lambda: (".txt", b"\xff\xfe" + flip_bytes(rng, SAMPLE_TEXT.encode("utf-16-le"))),
        lambda: (".md", truncate(rng, SAMPLE_TEXT.encode("utf-8"))),
        lambda: (".txt", SAMPLE_TEXT.encode() + bytes([rng.randrange(32)])),
        lambda: (".text", b"\x1b$B" + bytes(rng.randrange(33, 127) for _ in range(40))),
        lambda: (".html", _broken_html(rng).encode("utf-8")),
        lambda: (".htm", flip_bytes(rng, _broken_html(rng).encode("cp932"))),
        lambda: (".markdown", b"\xef\xbb\xbf" + flip_bytes(rng, SAMPLE_TEXT.encode())),
    ]
    return [makers[i % len(makers)]() for i in range(count)]


def _broken_html(rng: random.Random) -> str:
    pieces = [
        "<h1>運用</h1>",
        "<p>月次報告書を提出する。",
        "<table><tr><td>期限<td>毎月末",
        "<!-- 閉じないコメント",
        "<script>while(1){}",
        "&#xFFFFFFFF;&bogus;&#0;",
        "<" * 50,
        "<div " + "a=1 " * 200,
        "</p></p></table>",
    ]
    rng.shuffle(pieces)
    return "".join(pieces[: rng.randint(1, len(pieces))])


# --- fakes for ingesting without the model or Chroma ------------------------------------------


class MemoryStore:
    """The part of ``PassageStore`` ingestion uses, in a dict."""

    def __init__(self) -> None:
        self.rows: dict[str, Any] = {}
        self.model: str | None = None

    def count(self) -> int:
        return len(self.rows)

    def embedding_model(self) -> str | None:
        return self.model

    def set_embedding_model(self, name: str) -> None:
        self.model = name

    def vector_dimension(self) -> int | None:
        return 4 if self.rows else None

    def reset(self) -> None:
        self.rows = {}

    def document_digests(self) -> dict[str, tuple[str, str]]:
        return {row.passage.doc: (row.digest, row.source) for row in self.rows.values()}

    def delete_document(self, doc: str) -> None:
        self.rows = {pid: row for pid, row in self.rows.items() if row.passage.doc != doc}

    def add(self, stored: Any, vectors: Any) -> None:
        assert len(stored) == len(vectors)
        for row in stored:
            self.rows[row.passage.id] = row

    def docs(self) -> set[str]:
        return {row.passage.doc for row in self.rows.values()}


class ZeroEmbedder:
    identity = "zero"
    dimension = 4

    def embed_passages(self, texts: list[str]) -> Any:
        import numpy as np

        return np.zeros((len(texts), 4), dtype=np.float32)
