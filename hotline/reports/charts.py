"""Charts drawn on the server as inline SVG: no JavaScript library, the same picture for the same figures.

Every chart is an `<svg class="chart">` with a <title> and a <desc> (read by screen readers) and a
<title> on each bar or slice (shown as a tooltip); all text is escaped.
"""
from __future__ import annotations

import math

from markupsafe import Markup, escape

PALETTE = ("#b3261e", "#1f6feb", "#1e7b34", "#d08700", "#6f42c1", "#0f766e", "#5b6470", "#c2185b")
EMPTY = "#d8dde3"
INK, MUTED, LINE = "#1b1f24", "#5b6470", "#d8dde3"

_LEFT, _RIGHT, _TOP, _PLOT_H, _AXIS_H, _LEGEND_ROW = 48, 16, 16, 180, 28, 22


def number(value: float | None) -> str:
    """A figure as text: whole numbers without decimals, others with one; "—" for no figure."""
    if value is None:
        return "—"
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text_width(text: str, size: int = 12) -> int:
    # Wide (CJK) characters take a full em, others about half of one: enough to lay out a legend.
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in text)


def _axis(maximum: float, whole: bool) -> tuple[float, float]:
    """A round top for the value axis and the step between its ticks (about four ticks)."""
    if maximum <= 0:
        return 1.0, 1.0
    raw = maximum / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(step, 1.0)
    return math.ceil(maximum / step - 1e-9) * step, step


def _open(chart_id: str, title: str, desc: str, width: float, height: float) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg class="chart" id="{cid}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-labelledby="{cid}-title {cid}-desc" '
        f'font-size="12" font-family="sans-serif">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]


def _legend(names: list[str], x0: float, y0: float, width: float) -> tuple[list[str], int]:
    """Legend items (swatch and name) wrapped into rows within `width`; the parts and the number of rows."""
    parts, x, y, rows = [], x0, y0, 1 if names else 0
    for index, name in enumerate(names):
        item = 20 + _text_width(name) + 16
        if x > x0 and x + item > x0 + width:
            x, y, rows = x0, y + _LEGEND_ROW, rows + 1
        parts.append(f'<rect class="legend" x="{x:.0f}" y="{y:.0f}" width="12" height="12" '
                     f'fill="{PALETTE[index % len(PALETTE)]}"/>'
                     f'<text x="{x + 18:.0f}" y="{y + 11:.0f}" fill="{INK}">{escape(name)}</text>')
        x += item
    return parts, rows


def bar_chart(chart_id: str, title: str, labels: list[str], series: list[tuple[str, list[float | None]]],
              *, stacked: bool = False, unit: str = "", whole: bool = True) -> Markup:
    """Bars per label: one bar per series side by side, or stacked into one; a legend of the series.

    `series` is [(name, values aligned with labels)]; a None value (no figure) draws no bar.
    `whole`: the values are counts, so the axis ticks are whole numbers.
    """
    per_label = [[(values[i] or 0) for _, values in series] for i in range(len(labels))]
    tallest = max((sum(v) if stacked else max(v, default=0)) for v in per_label) if per_label else 0
    top, step = _axis(tallest, whole)
    bar_w = 28 if stacked else 18
    group_w = max(64, (bar_w if stacked else bar_w * len(series)) + 24)
    plot_w = group_w * max(len(labels), 1)
    width = _LEFT + plot_w + _RIGHT
    legend, rows = _legend([name for name, _ in series], _LEFT, _TOP + _PLOT_H + _AXIS_H + 4, plot_w)
    height = _TOP + _PLOT_H + _AXIS_H + rows * _LEGEND_ROW + 8
    suffix = f" {unit}" if unit else ""
    desc = "; ".join(f"{label}: " + ", ".join(f"{name} {number(values[i])}{suffix}" for name, values in series)
                     for i, label in enumerate(labels))
    out = _open(chart_id, title, desc, width, height)
    base = _TOP + _PLOT_H
    ticks = int(round(top / step))
    for tick in range(ticks + 1):
        value = tick * step
        y = base - _PLOT_H * value / top
        out.append(f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LINE}"/>'
                   f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{number(value)}</text>')
    for i, label in enumerate(labels):
        x = _LEFT + i * group_w + (group_w - (bar_w if stacked else bar_w * len(series))) / 2
        stack = 0.0
        for j, (name, values) in enumerate(series):
            value = values[i]
            if value is None:
                continue
            h = _PLOT_H * value / top
            bar_x = x if stacked else x + j * bar_w
            bar_y = base - _PLOT_H * stack / top - h
            out.append(f'<rect class="bar" x="{bar_x:.1f}" y="{bar_y:.1f}" width="{bar_w - 2}" height="{h:.1f}" '
                       f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(label)} · {escape(name)}: '
                       f'{number(value)}{escape(suffix)}</title></rect>')
            if stacked:
                stack += value
        out.append(f'<text class="label" x="{_LEFT + i * group_w + group_w / 2:.1f}" y="{base + 18}" '
                   f'text-anchor="middle" fill="{INK}">{escape(label)}</text>')
    out.append(f'<line x1="{_LEFT}" x2="{_LEFT + plot_w}" y1="{base}" y2="{base}" stroke="{MUTED}"/>')
    out.extend(legend)
    out.append("</svg>")
    return Markup("".join(out))


def _on_ring(cx: float, cy: float, radius: float, turns: float) -> tuple[float, float]:
    angle = 2 * math.pi * turns - math.pi / 2
    return cx + radius * math.cos(angle), cy + radius * math.sin(angle)


def donut(chart_id: str, title: str, parts: list[tuple[str, int]], *, centre: str | None = None) -> Markup:
    """A ring of the parts' shares with a legend of counts and percentages; `centre` is the text inside
    (default: the first part's share). All parts zero: an empty grey ring and "—"."""
    total = sum(count for _, count in parts)
    radius, stroke, cx, cy = 60, 26, 90, 90

    def share(count: int) -> str:
        return f"{100 * count / total:.1f}%" if total else "—"

    lines = [f"{name}: {count} ({share(count)})" for name, count in parts]
    width = 200 + max((_text_width(line) for line in lines), default=0) + 16
    height = max(180, 20 + len(parts) * _LEGEND_ROW)
    out = _open(chart_id, title, "; ".join(lines), width, height)
    ring = f'cx="{cx}" cy="{cy}" r="{radius}" fill="none" stroke-width="{stroke}"'
    out.append(f'<circle {ring} stroke="{EMPTY}"/>')
    done = 0
    for index, (_name, count) in enumerate(parts):
        if not total or not count:
            continue
        colour, tip = PALETTE[index % len(PALETTE)], f"<title>{escape(lines[index])}</title>"
        if count == total:  # one arc cannot close on itself: the whole ring is a circle
            out.append(f'<circle class="slice" {ring} stroke="{colour}">{tip}</circle>')
            continue
        # Arcs clockwise from twelve o'clock (angles in turns of the ring).
        (x0, y0), (x1, y1) = (_on_ring(cx, cy, radius, done / total),
                              _on_ring(cx, cy, radius, (done + count) / total))
        large = 1 if 2 * count > total else 0
        out.append(f'<path class="slice" d="M {x0:.2f} {y0:.2f} A {radius} {radius} 0 {large} 1 {x1:.2f} {y1:.2f}" '
                   f'fill="none" stroke-width="{stroke}" stroke="{colour}">{tip}</path>')
        done += count
    middle = centre if centre is not None else (share(parts[0][1]) if parts else "—")
    out.append(f'<text x="{cx}" y="{cy + 7}" text-anchor="middle" font-size="20" font-weight="bold" '
               f'fill="{INK}">{escape(middle)}</text>')
    for index, line in enumerate(lines):
        y = 20 + index * _LEGEND_ROW
        out.append(f'<rect class="legend" x="200" y="{y}" width="12" height="12" '
                   f'fill="{PALETTE[index % len(PALETTE)]}"/>'
                   f'<text x="218" y="{y + 11}" fill="{INK}">{escape(line)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
