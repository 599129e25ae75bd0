"""Charts as inline SVG built in Python: the HTML report needs no JavaScript and no network to be read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

COLOURS = {"success": "#1a7f37", "failed": "#cf222e", "refused": "#8250df", "unreachable": "#bc4c00",
           "aborted": "#9a6700", "error": "#6e7781", "ok": "#1a7f37", "degraded": "#9a6700", "fault": "#cf222e"}
OTHER = "#57606a"


def daily_stacked(per_day: Mapping[str, Mapping[str, int]], days: Sequence[str], title: str) -> str:
    """One column per day of the month, stacked by status."""
    width, height, left, bottom = 640, 180, 28, 22
    peak = max((sum(c.values()) for c in per_day.values()), default=0) or 1
    step = (width - left) / max(len(days), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
             f'width="100%" style="max-width:{width}px"><title>{escape(title)}</title>',
             f'<text x="0" y="12" font-size="10">{peak}</text>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#d0d7de"/>']
    scale = (height - bottom - 16) / peak
    for index, day in enumerate(days):
        x, y = left + index * step, height - bottom
        for status, count in sorted((per_day.get(day) or {}).items()):
            bar = count * scale
            y -= bar
            parts.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" height="{bar:.1f}" '
                         f'fill="{COLOURS.get(status, OTHER)}"><title>{escape(day)} {escape(status)}: {count}'
                         f'</title></rect>')
        if index % 5 == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="9">{escape(day[-2:])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(rows: Sequence[tuple[str, float | None]], title: str, unit: str = "%", top: float = 100.0) -> str:
    """A labelled bar per row (e.g. compliance % per host); None is drawn as 'no data'."""
    bar_height, label_width, width = 18, 140, 640
    height = bar_height * len(rows) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
             f'width="100%" style="max-width:{width}px"><title>{escape(title)}</title>']
    for index, (label, value) in enumerate(rows):
        y = 4 + index * bar_height
        parts.append(f'<text x="0" y="{y + 13}" font-size="11">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text x="{label_width}" y="{y + 13}" font-size="11" fill="{OTHER}">—</text>')
            continue
        length = (width - label_width - 60) * max(0.0, min(value, top)) / top
        colour = COLOURS["ok"] if value >= 90 else COLOURS["degraded"] if value >= 70 else COLOURS["fault"]
        parts.append(f'<rect x="{label_width}" y="{y + 2}" width="{length:.1f}" height="{bar_height - 6}" '
                     f'fill="{colour}"/>')
        parts.append(f'<text x="{label_width + length + 4:.1f}" y="{y + 13}" font-size="11">{value:g}{unit}</text>')
    parts.append("</svg>")
    return "".join(parts)
