"""Draw the Teams app icons (no image library needed): ``python deploy/teams/make_icons.py``.

Teams wants ``color.png`` (192x192, full colour) and ``outline.png`` (32x32, white on a
transparent background). The picture is a speech bubble with three dots: a consultation.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACCENT = (31, 78, 121)  # #1F4E79, the manifest's accentColor
WHITE = (255, 255, 255)

Pixel = tuple[int, int, int, int]


def _png(width: int, height: int, pixel: Callable[[float, float], Pixel]) -> bytes:
    """RGBA PNG; ``pixel(x, y)`` gets coordinates scaled to 0..1, sampled 4x4 for smooth edges."""
    rows = bytearray()
    samples = [(i + 0.5) / 4 for i in range(4)]
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            acc = [0, 0, 0, 0]
            for sy in samples:
                for sx in samples:
                    r, g, b, a = pixel((x + sx) / width, (y + sy) / height)
                    acc = [acc[0] + r * a, acc[1] + g * a, acc[2] + b * a, acc[3] + a]
            alpha = acc[3] / 16
            rgb = [round(c / acc[3]) if acc[3] else 0 for c in acc[:3]]
            rows += bytes([*rgb, round(alpha)])

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def _in_bubble(x: float, y: float) -> bool:
    body = ((x - 0.5) / 0.36) ** 2 + ((y - 0.45) / 0.27) ** 2 <= 1
    # The tail: a triangle below the bubble, towards the lower left.
    tail = 0.62 <= y <= 0.84 and 0.26 <= x <= 0.46 and (x - 0.26) >= (y - 0.62) * 0.45
    tail = tail and (0.46 - x) >= (y - 0.62) * 0.45
    return body or tail


def _in_dot(x: float, y: float) -> bool:
    return any((x - cx) ** 2 + (y - 0.45) ** 2 <= 0.05**2 for cx in (0.36, 0.5, 0.64))


def _color(x: float, y: float) -> Pixel:
    if _in_dot(x, y):
        return (*ACCENT, 255)
    if _in_bubble(x, y):
        return (*WHITE, 255)
    return (*ACCENT, 255)


def _outline(x: float, y: float) -> Pixel:
    inner = ((x - 0.5) / 0.27) ** 2 + ((y - 0.45) / 0.18) ** 2 <= 1
    if _in_dot(x, y) or (_in_bubble(x, y) and not inner):
        return (*WHITE, 255)
    return (*WHITE, 0)


def main() -> None:
    (HERE / "color.png").write_bytes(_png(192, 192, _color))
    (HERE / "outline.png").write_bytes(_png(32, 32, _outline))


if __name__ == "__main__":
    main()
