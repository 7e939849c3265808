"""Server-side SVG charts for the HR dashboard.

Accessible and printable without JavaScript: each chart is an `<svg role="img">` labelled by its
own `<title>` and `<desc>` (the desc states every number), every bar or point carries a text label
or its own `<title>`, series differ by dash pattern and marker shape as well as colour (readable in
grayscale print), and only presentation attributes are used (the CSP forbids inline styles).
Templates place the same numbers in a table next to each chart, and in CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

FONT = "system-ui, -apple-system, 'Hiragino Sans', 'Noto Sans JP', sans-serif"
TEXT = "#1d2330"
MUTED = "#5b6475"
GRID = "#d9dde5"
FUNNEL_COLOURS = ("#1559c6", "#2f6fd6", "#0f8a6c", "#0b6b53", "#8a5a00")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    colour: str
    dash: str = ""  # stroke-dasharray
    marker: str = "circle"  # circle | square | diamond | triangle


TREND_STYLES = (
    ("#1559c6", "", "circle"),
    ("#0f8a6c", "6 4", "square"),
    ("#8a5a00", "2 3", "diamond"),
    ("#b3261e", "10 4 2 4", "triangle"),
)


def _n(value: int) -> str:
    return number_format(value, force_grouping=True)


def _svg(
    *, chart_id: str, width: int, height: int, title: str, desc: str, body: SafeString
) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{id}" role="img" '
        'aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" font-family="{font}" font-size="13" fill="{text}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        id=chart_id,
        w=width,
        h=height,
        font=FONT,
        text=TEXT,
        title=title,
        desc=desc,
        body=body,
    )


def funnel_svg(
    *,
    chart_id: str,
    title: str,
    steps: Sequence[tuple[str, int]],
    rate_label: str = "前段からの割合",
    empty_label: str = "この期間のデータはまだありません",
) -> SafeString:
    """Horizontal bars, one per step, each labelled with its count and the share of the step
    before it. Bar widths are relative to the first step (or the largest, if larger)."""
    width, label_w, bar_w, row_h, top = 680, 170, 330, 46, 8
    height = top + row_h * len(steps) + 8
    biggest = max([value for _, value in steps] + [1])
    parts: list[SafeString] = []
    desc_bits: list[str] = []
    previous: int | None = None
    for i, (label, value) in enumerate(steps):
        y = top + i * row_h
        w = round(bar_w * value / biggest) if value else 0
        share = ""
        if previous is not None:
            share = f"{round(100 * value / previous, 1)} %" if previous else "—"
        text = f"{_n(value)}" + (f"（{rate_label} {share}）" if share else "")
        desc_bits.append(f"{label}: {text}")
        parts.append(
            format_html(
                '<g class="chart-step"><text x="{lx}" y="{ty}" text-anchor="end">{label}</text>'
                '<rect x="{bx}" y="{by}" width="{bw}" height="{bh}" rx="3" fill="#eef1f6"/>'
                '<rect x="{bx}" y="{by}" width="{w}" height="{bh}" rx="3" fill="{colour}">'
                "<title>{label}: {text}</title></rect>"
                '<text x="{vx}" y="{ty}" font-weight="600">{value}</text>'
                '<text x="{vx}" y="{sy}" fill="{muted}" font-size="11">{share}</text></g>',
                lx=label_w - 10,
                ty=y + 19,
                sy=y + 35,
                label=label,
                bx=label_w,
                by=y + 4,
                bw=bar_w,
                bh=row_h - 14,
                w=w,
                colour=FUNNEL_COLOURS[i % len(FUNNEL_COLOURS)],
                text=text,
                vx=label_w + bar_w + 10,
                value=_n(value),
                muted=MUTED,
                share=f"{rate_label} {share}" if share else "",
            )
        )
        previous = value
    desc = "; ".join(desc_bits)
    if not any(value for _, value in steps):
        desc = f"{empty_label}。{desc}"
    return _svg(
        chart_id=chart_id,
        width=width,
        height=height,
        title=title,
        desc=desc,
        body=mark_safe("".join(parts)),  # noqa: S308 - every part built by format_html
    )


def _nice_ceiling(value: int) -> int:
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value and top % 4 == 0:
            return top
    return ((value + 3) // 4) * 4


def _marker(kind: str, x: float, y: float, colour: str, tip: str) -> SafeString:
    if kind == "square":
        shape = format_html(
            '<rect x="{}" y="{}" width="8" height="8" fill="{}"', x - 4, y - 4, colour
        )
    elif kind == "diamond":
        shape = format_html(
            '<polygon points="{},{} {},{} {},{} {},{}" fill="{}"',
            x,
            y - 5,
            x + 5,
            y,
            x,
            y + 5,
            x - 5,
            y,
            colour,
        )
    elif kind == "triangle":
        shape = format_html(
            '<polygon points="{},{} {},{} {},{}" fill="{}"',
            x,
            y - 5,
            x + 5,
            y + 4,
            x - 5,
            y + 4,
            colour,
        )
    else:
        shape = format_html('<circle cx="{}" cy="{}" r="4" fill="{}"', x, y, colour)
    tag = "rect" if kind == "square" else "polygon" if kind in ("diamond", "triangle") else "circle"
    return format_html("{}><title>{}</title></{}>", shape, tip, mark_safe(tag))  # noqa: S308


def trend_svg(
    *,
    chart_id: str,
    title: str,
    months: Sequence[str],
    series: Sequence[Series],
    empty_label: str = "この期間のデータはまだありません",
) -> SafeString:
    """A line chart of monthly counts: a y axis with 4 gridlines, month labels, a legend in
    text, one marker with a tooltip per point and the last value written next to each line."""
    width, height = 760, 320
    left, right, top, bottom = 56, 150, 40, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    biggest = max([v for s in series for v in s.values] + [0])
    ceiling = _nice_ceiling(biggest)
    count = max(len(months), 1)
    step_x = plot_w / max(count - 1, 1)

    def px(i: int) -> float:
        return round(left + (i * step_x if count > 1 else plot_w / 2), 1)

    def py(v: int) -> float:
        return round(top + plot_h - plot_h * v / ceiling, 1)

    parts: list[SafeString] = []
    for k in range(5):
        value = ceiling * k // 4
        y = py(value)
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>'
                '<text x="{}" y="{}" text-anchor="end" fill="{}" font-size="11">{}</text>',
                left,
                y,
                left + plot_w,
                y,
                GRID,
                left - 8,
                y + 4,
                MUTED,
                _n(value),
            )
        )
    label_every = max(1, (count + 11) // 12)
    for i, month in enumerate(months):
        # Every n-th month, counted back from the last one so the newest month is labelled.
        if (count - 1 - i) % label_every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}" font-size="11">{}</text>',
                    px(i),
                    top + plot_h + 18,
                    MUTED,
                    month,
                )
            )
    legend_x = left
    for s in series:
        parts.append(
            format_html(
                '<g class="chart-legend"><line x1="{}" y1="16" x2="{}" y2="16" stroke="{}" '
                'stroke-width="3" stroke-dasharray="{}"/>{}<text x="{}" y="20">{}</text></g>',
                legend_x,
                legend_x + 24,
                s.colour,
                s.dash or "none",
                _marker(s.marker, legend_x + 12, 16, s.colour, s.name),
                legend_x + 30,
                s.name,
            )
        )
        legend_x += 150
    desc_bits: list[str] = []
    for s in series:
        points = " ".join(f"{px(i)},{py(v)}" for i, v in enumerate(s.values))
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5" '
                'stroke-dasharray="{}" stroke-linejoin="round"/>',
                points,
                s.colour,
                s.dash or "none",
            )
        )
        parts.extend(
            _marker(s.marker, px(i), py(v), s.colour, f"{s.name} {months[i]}: {_n(v)}")
            for i, v in enumerate(s.values)
        )
        desc_bits.append(
            f"{s.name}: "
            + ", ".join(f"{m} {_n(v)}" for m, v in zip(months, s.values, strict=False))
        )
    # The last value of each series next to its line, nudged apart so labels never overlap.
    ends = sorted(
        ((py(s.values[-1]) + 4, s) for s in series if s.values),
        key=lambda item: item[0],
        reverse=True,
    )
    placed: list[float] = []
    for y, s in ends:
        if placed and placed[-1] - y < 15:
            y = placed[-1] - 15
        placed.append(y)
        parts.append(
            format_html(
                '<text x="{}" y="{}" fill="{}" font-size="12" font-weight="600">{} {}</text>',
                px(len(s.values) - 1) + 8,
                y,
                s.colour,
                _n(s.values[-1]),
                s.name,
            )
        )
    desc = "; ".join(desc_bits)
    if biggest == 0:
        desc = f"{empty_label}。{desc}"
    return _svg(
        chart_id=chart_id,
        width=width,
        height=height,
        title=title,
        desc=desc,
        body=format_html_join("", "{}", ((p,) for p in parts)),
    )


def trend_series(
    names_and_values: Sequence[tuple[str, Sequence[int]]], *, offset: int = 0
) -> list[Series]:
    """Give each series its colour, dash pattern and marker in a fixed order (from `offset`, so a
    measure keeps its style across charts)."""
    return [
        Series(name=name, values=list(values), colour=c, dash=d, marker=m)
        for (name, values), (c, d, m) in zip(names_and_values, TREND_STYLES[offset:], strict=False)
    ]
