"""Draft 仕様書 files for the review tests: the Markdown drafts of ``drafts/`` as Word and PDF.

``python -m tests.spec_review.draft_files`` writes the DOCX / PDF copies that
``drafts/labels.yaml`` lists under ``same_as`` and the scanned-like PDF (an image and no
text layer), so ``soudan eval-spec tests/spec_review/drafts`` reads every format.
The PDF uses a CID font with a ToUnicode map (code point = CID): its text layer is
real Japanese text, as in a PDF exported from Word.
"""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

import yaml

DRAFTS = Path(__file__).with_name("drafts")


def markdown_blocks(markdown: str) -> list[tuple[str, object]]:
    """("heading", (level, text)) / ("para", text) / ("table", rows) blocks of a draft."""
    blocks: list[tuple[str, object]] = []
    table: list[list[str]] = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r"-+", c) for c in cells):
                table.append(cells)
            continue
        if table:
            blocks.append(("table", table))
            table = []
        heading = re.match(r"^(#+)\s+(.*)$", line)
        if heading:
            blocks.append(("heading", (len(heading.group(1)), heading.group(2))))
        elif line.strip():
            blocks.append(("para", line.strip()))
    if table:
        blocks.append(("table", table))
    return blocks


def make_docx(markdown: str) -> bytes:
    """The draft as Word: headings in Heading styles, tables as Word tables."""
    import docx

    document = docx.Document()
    for kind, value in markdown_blocks(markdown):
        if kind == "heading":
            level, text = value  # type: ignore[misc]
            document.add_heading(text, level=min(level, 3) - 1 if level > 1 else 0)
        elif kind == "para":
            document.add_paragraph(str(value))
        else:
            rows: list[list[str]] = value  # type: ignore[assignment]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pdf(markdown: str, *, lines_per_page: int = 45, width: int = 40) -> bytes:
    """The draft as a text PDF: headings as plain numbered lines, long paragraphs wrapped."""
    lines: list[str] = []
    for kind, value in markdown_blocks(markdown):
        if kind == "heading":
            lines.append(value[1])  # type: ignore[index]
        elif kind == "para":
            text = str(value)
            lines += [text[i : i + width] for i in range(0, len(text), width)]
        else:
            lines += ["　".join(row) for row in value]  # type: ignore[attr-defined]
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    return _pdf(pages)


def make_scanned_pdf() -> bytes:
    """A one-page PDF holding only an image (a scan): no text layer at all."""
    pixels = zlib.compress(bytes([200]) * (100 * 100))
    image = (
        b"<< /Type /XObject /Subtype /Image /Width 100 /Height 100 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % len(pixels)
        + pixels + b"\nendstream"
    )
    content = b"q 500 0 0 700 50 70 cm /Im1 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        image,
    ]
    return _assemble(objects)


def _to_unicode_cmap() -> bytes:
    ranges = [f"<{h:02X}00> <{h:02X}FF> <{h:02X}00>" for h in range(256) if not 0xD8 <= h <= 0xDF]
    blocks = [
        f"{len(part)} beginbfrange\n" + "\n".join(part) + "\nendbfrange"
        for part in (ranges[i : i + 100] for i in range(0, len(ranges), 100))
    ]
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n" + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("ascii")


def _pdf(pages: list[list[str]]) -> bytes:
    def hex_text(text: str) -> str:
        return "<" + "".join(f"{ord(c):04X}" for c in text if ord(c) < 0x10000) + ">"

    cmap = _to_unicode_cmap()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (6 + 2 * i) for i in range(len(pages)))
        + b"] /Count %d >>" % len(pages),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiMin-W3 /Encoding /Identity-H "
        b"/DescendantFonts [4 0 R] /ToUnicode 5 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiMin-W3 /CIDSystemInfo "
        b"<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    for number, lines in enumerate(pages):
        stream = (
            "BT /F1 10 Tf 50 800 Td 16 TL " + " ".join(f"{hex_text(line)} '" for line in lines) + " ET"
        ).encode("ascii")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % (7 + 2 * number)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    return _assemble(objects)


def _assemble(objects: list[bytes]) -> bytes:
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
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def render(name: str, markdown: str) -> bytes:
    """The copy of a Markdown draft in the format ``name`` ends with."""
    return make_pdf(markdown) if name.endswith(".pdf") else make_docx(markdown)


def write_copies(folder: Path = DRAFTS) -> list[Path]:
    """Write the DOCX / PDF copies and the scanned PDF that ``labels.yaml`` lists."""
    labels = yaml.safe_load((folder / "labels.yaml").read_text(encoding="utf-8"))
    written = []
    for name, source in labels.get("same_as", {}).items():
        target = folder / name
        target.write_bytes(render(name, (folder / source).read_text(encoding="utf-8")))
        written.append(target)
    for name, label in labels["drafts"].items():
        if label.get("refused"):
            (folder / name).write_bytes(make_scanned_pdf())
            written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in write_copies():
        print(path)
