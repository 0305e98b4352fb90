"""Charts for the digest page as inline SVG, drawn on the server (no script).

Each chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>`` naming every
value, so a screen reader reads the numbers; the page also shows them as a table.
Colours come from the stylesheet (``class`` attributes), never inline styles: the
Content-Security-Policy allows no inline style or script.

Example:
    >>> svg = bar_chart("部署別の相談件数", [("総務課", 3), ("市民課", 1)], unit="件")
    >>> svg.startswith("<svg")
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 190
PLOT_WIDTH = 300
VALUE_WIDTH = 70


def _desc(items: Sequence[tuple[str, int]], unit: str) -> str:
    return "、".join(f"{label} {value}{unit}" for label, value in items) or "データなし"


def bar_chart(
    title: str, items: Sequence[tuple[str, int]], *, unit: str = "件", chart_id: str = "chart"
) -> Markup:
    """Horizontal bars, one per (label, value)."""
    rows = list(items) or [("データなし", 0)]
    top = max((value for _, value in rows), default=0) or 1
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    height = len(rows) * (BAR_HEIGHT + GAP) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(_desc(items, unit))}</desc>',
    ]
    for index, (label, value) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        bar = round(PLOT_WIDTH * value / top) if value else 0
        short = label if len(label) <= 14 else label[:13] + "…"
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 6}" '
            f'text-anchor="end">{escape(short)}</text>'
        )
        parts.append(
            f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y}" width="{max(bar, 1)}" '
            f'height="{BAR_HEIGHT}"><title>{escape(label)}: {value}{escape(unit)}</title></rect>'
        )
        parts.append(
            f'<text class="chart-value" x="{LABEL_WIDTH + bar + 6}" y="{y + BAR_HEIGHT - 6}">'
            f"{value}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(
    title: str, items: Sequence[tuple[str, int]], *, unit: str = "件", chart_id: str = "chart"
) -> Markup:
    """Vertical columns over time, e.g. the last 12 weeks (label under each column)."""
    rows = list(items) or [("", 0)]
    top = max((value for _, value in rows), default=0) or 1
    column, gap, plot, base = 36, 10, 140, 40
    width = len(rows) * (column + gap) + gap
    height = plot + base + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(_desc(items, unit))}</desc>',
        f'<line class="chart-axis" x1="0" y1="{plot + 20}" x2="{width}" y2="{plot + 20}"/>',
    ]
    for index, (label, value) in enumerate(rows):
        x = gap + index * (column + gap)
        bar = round(plot * value / top) if value else 0
        y = plot + 20 - bar
        parts.append(
            f'<rect class="chart-bar" x="{x}" y="{y}" width="{column}" height="{max(bar, 1)}">'
            f"<title>{escape(label)}: {value}{escape(unit)}</title></rect>"
        )
        parts.append(
            f'<text class="chart-value" x="{x + column / 2}" y="{y - 4}" '
            f'text-anchor="middle">{value}</text>'
        )
        parts.append(
            f'<text class="chart-label" x="{x + column / 2}" y="{plot + 38}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
