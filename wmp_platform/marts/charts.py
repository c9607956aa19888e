"""Charts of the KPI marts as SVG text: small multiples of lines (trends) and histograms against a
target. SVG needs no plotting library, shows inline in the HTML report and, as a data URI, in
the asset's metadata in the Dagster UI."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

# Tableau 10, then two greys: distinguishable lines for up to a dozen series.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac", "#555555", "#999999")
WITHIN, BEYOND, TARGET = "#4e79a7", "#f28e2b", "#c0392b"
FONT = "font-family='Helvetica, Arial, sans-serif'"

Point = tuple[date | datetime, float]


@dataclass(frozen=True)
class Bin:
    start: float
    end: float | None  # None: the open last bin
    count: int


@dataclass(frozen=True)
class Histogram:
    title: str
    bins: list[Bin]
    target: float
    unit: str  # of the bins' edges, e.g. "min"


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def markdown_image(svg: str, alt: str) -> str:
    """Markdown showing the chart (Dagster renders it in the asset's metadata)."""
    return f"![{alt}]({data_uri(svg)})"


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * magnitude >= value)


def _text(x: float, y: float, text: str, size: int = 11, anchor: str = "start", weight: str = "normal",
          fill: str = "#333") -> str:
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' font-weight='{weight}' "
            f"fill='{fill}' {FONT}>{escape(text)}</text>")


def _ordinal(value: date | datetime) -> float:
    return value.timestamp() / 86400 if isinstance(value, datetime) else float(value.toordinal())


def _label(value: date | datetime) -> str:
    return value.strftime("%d %b %H:%M") if isinstance(value, datetime) else value.strftime("%d %b %Y")


def line_panels(title: str, panels: dict[str, dict[str, list[Point]]], y_label: str, columns: int = 4) -> str:
    """One panel per key of panels, each with a line per series; a shared legend and y scale."""
    series = sorted({name for lines in panels.values() for name in lines})
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    points = [p for lines in panels.values() for line in lines.values() for p in line]
    if not points:
        raise ValueError(f"chart {title!r} has no points")
    x_min, x_max = min(_ordinal(x) for x, _ in points), max(_ordinal(x) for x, _ in points)
    first_x, last_x = min(x for x, _ in points), max(x for x, _ in points)
    y_max = _nice_ceiling(max(y for _, y in points))
    width, panel_w, panel_h, pad = 960, 960 / min(columns, len(panels)), 170, 36
    rows = math.ceil(len(panels) / columns)
    legend_rows = math.ceil(len(series) / 4)
    height = 40 + rows * (panel_h + 24) + legend_rows * 18 + 10
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='{width}' height='{height}'>",
           f"<rect width='{width}' height='{height}' fill='white'/>", _text(10, 22, title, 15, weight="bold")]
    for index, (name, lines) in enumerate(panels.items()):
        left = (index % columns) * panel_w + pad
        top = 40 + (index // columns) * (panel_h + 24) + 16
        plot_w, plot_h = panel_w - pad - 12, panel_h - 34
        x_scale = plot_w / (x_max - x_min) if x_max > x_min else 0.0

        def px(x: date | datetime, left=left, x_scale=x_scale, plot_w=plot_w) -> float:
            return left + (x_scale * (_ordinal(x) - x_min) if x_scale else plot_w / 2)

        def py(y: float, top=top, plot_h=plot_h) -> float:
            return top + plot_h - plot_h * y / y_max

        out.append(_text(left, top - 4, name, 12, weight="bold"))
        out.append(f"<rect x='{left:.1f}' y='{top:.1f}' width='{plot_w:.1f}' height='{plot_h:.1f}' fill='#f7f7f7'/>")
        for tick in (0, y_max / 2, y_max):
            out.append(f"<line x1='{left:.1f}' x2='{left + plot_w:.1f}' y1='{py(tick):.1f}' y2='{py(tick):.1f}' "
                       "stroke='#ddd'/>")
            out.append(_text(left - 4, py(tick) + 4, f"{tick:g}", 9, "end"))
        out.append(_text(left, top + plot_h + 13, _label(first_x), 9))
        out.append(_text(left + plot_w, top + plot_h + 13, _label(last_x), 9, "end"))
        for series_name, line in sorted(lines.items()):
            line = sorted(line)
            if len(line) == 1:
                out.append(f"<circle cx='{px(line[0][0]):.1f}' cy='{py(line[0][1]):.1f}' r='2.5' "
                           f"fill='{colours[series_name]}'/>")
            else:
                path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in line)
                out.append(f"<polyline points='{path}' fill='none' stroke='{colours[series_name]}' stroke-width='1.6'/>")
    out.append(_text(width - 10, 22, y_label, 11, "end", fill="#666"))
    legend_top = 40 + rows * (panel_h + 24) + 4
    for i, name in enumerate(series):
        x, y = 10 + (i % 4) * 238, legend_top + (i // 4) * 18
        out.append(f"<rect x='{x}' y='{y}' width='12' height='12' fill='{colours[name]}'/>")
        out.append(_text(x + 17, y + 10, name, 11))
    out.append("</svg>")
    return "\n".join(out)


def histogram_panels(title: str, histograms: list[Histogram]) -> str:
    """One histogram per panel: bars within the target in blue, beyond it in orange, the target as a
    red line, and the share within it written above."""
    if not histograms:
        raise ValueError(f"chart {title!r} has no histograms")
    width, pad = 960, 40
    panel_w, panel_h = width / len(histograms), 250
    height = 40 + panel_h + 40
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='{width}' height='{height}'>",
           f"<rect width='{width}' height='{height}' fill='white'/>", _text(10, 22, title, 15, weight="bold")]
    for index, histogram in enumerate(histograms):
        left, top = index * panel_w + pad, 62
        plot_w, plot_h = panel_w - pad - 14, panel_h - 50
        bins = histogram.bins
        total = sum(b.count for b in bins)
        within = sum(b.count for b in bins if b.end is not None and b.end <= histogram.target)
        y_max = _nice_ceiling(max((b.count for b in bins), default=1))
        bar_w = plot_w / len(bins)
        out.append(_text(left, top - 22, histogram.title, 12, weight="bold"))
        out.append(_text(left, top - 8, f"{within / total:.1%} within {histogram.target:g} {histogram.unit} "
                                        f"({within:,} of {total:,})" if total else "no attended incidents", 11))
        out.append(f"<rect x='{left:.1f}' y='{top:.1f}' width='{plot_w:.1f}' height='{plot_h:.1f}' fill='#f7f7f7'/>")
        for tick in (0, y_max / 2, y_max):
            y = top + plot_h - plot_h * tick / y_max
            out.append(f"<line x1='{left:.1f}' x2='{left + plot_w:.1f}' y1='{y:.1f}' y2='{y:.1f}' stroke='#ddd'/>")
            out.append(_text(left - 4, y + 4, f"{tick:g}", 9, "end"))
        for i, b in enumerate(bins):
            h = plot_h * b.count / y_max
            colour = WITHIN if b.end is not None and b.end <= histogram.target else BEYOND
            out.append(f"<rect x='{left + i * bar_w + 0.5:.1f}' y='{top + plot_h - h:.1f}' width='{bar_w - 1:.1f}' "
                       f"height='{h:.1f}' fill='{colour}'/>")
        edges = [b.start for b in bins] + [bins[-1].end or bins[-1].start + (bins[-1].start - bins[-2].start if len(bins) > 1 else 1)]
        span = edges[-1] - edges[0]
        x_target = left + plot_w * (histogram.target - edges[0]) / span
        out.append(f"<line x1='{x_target:.1f}' x2='{x_target:.1f}' y1='{top - 2:.1f}' y2='{top + plot_h:.1f}' "
                   f"stroke='{TARGET}' stroke-width='2' stroke-dasharray='5,3'/>")
        out.append(_text(x_target + 3, top + 10, f"target {histogram.target:g} {histogram.unit}", 10, fill=TARGET))
        out.append(_text(left, top + plot_h + 14, f"{edges[0]:g}", 9))
        out.append(_text(left + plot_w, top + plot_h + 14, f"{bins[-1].start:g}+ {histogram.unit}", 9, "end"))
    out.append("</svg>")
    return "\n".join(out)
