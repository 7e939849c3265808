"""Server-side SVG charts for the HR dashboard.

Accessible and printable without JavaScript: each chart is an `<svg role="img">` labelled by its
own `<title>` and `<desc>` (the desc states every number), every bar or point carries a text label
or its own `<title>`, series differ by dash pattern and marker shape as well as colour (readable in
grayscale print), and only presentation attributes are used (the CSP forbids inline styles).
Templates place the same numbers in a table next to each chart, and in CSV.

Every chart is drawn twice: a wide layout (class `chart-wide`) and a narrow one for phones
(class `chart-narrow`, about 340 units wide, so its text stays at 12-13 px on a 390 px screen).
static/css/app.css shows exactly one of them by media query; the hidden one is `display: none`,
so assistive technology reads one chart. Margins and legend spacing are sized from the length of
the labels (Japanese characters count as a full em, Latin ones as ~0.64 em).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

FONT = "system-ui, -apple-system, 'Hiragino Sans', 'Noto Sans JP', sans-serif"
TEXT = "#1d2330"
MUTED = "#5b6475"
GRID = "#d9dde5"
FUNNEL_COLOURS = ("#1559c6", "#2f6fd6", "#0f8a6c", "#0b6b53", "#8a5a00")
NARROW_WIDTH = 340


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


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """A generous estimate of rendered text width: full-width (CJK) characters are one em,
    everything else 0.64 em (0.7 em bold; DejaVu digits are 0.64 em), so margins sized from
    it never clip."""
    narrow = 0.7 if bold else 0.64
    em = sum(1.0 if unicodedata.east_asian_width(c) in "WF" else narrow for c in text)
    return em * size


def _svg(
    *,
    chart_id: str,
    variant: str,
    width: int,
    height: int,
    title: str,
    desc: str,
    body: SafeString,
) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{variant}" id="{id}" '
        'role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" font-family="{font}" font-size="13" fill="{text}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        id=chart_id,
        variant=variant,
        w=width,
        h=height,
        font=FONT,
        text=TEXT,
        title=title,
        desc=desc,
        body=body,
    )


def _both(*, chart_id: str, title: str, desc: str, wide: tuple, narrow: tuple) -> SafeString:
    """The wide chart keeps `chart_id`; the phone layout is `<chart_id>-narrow`."""
    (w_width, w_height, w_body), (n_width, n_height, n_body) = wide, narrow
    return format_html(
        "{}{}",
        _svg(
            chart_id=chart_id,
            variant="wide",
            width=w_width,
            height=w_height,
            title=title,
            desc=desc,
            body=w_body,
        ),
        _svg(
            chart_id=f"{chart_id}-narrow",
            variant="narrow",
            width=n_width,
            height=n_height,
            title=title,
            desc=desc,
            body=n_body,
        ),
    )


def _join(parts: Sequence[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((p,) for p in parts))


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
    biggest = max([value for _, value in steps] + [1])
    rows: list[tuple[str, int, str, str, str]] = []  # label, value, share, text, colour
    previous: int | None = None
    for i, (label, value) in enumerate(steps):
        share = ""
        if previous is not None:
            rate = f"{round(100 * value / previous, 1)} %" if previous else "—"
            share = f"{rate_label} {rate}"
        # Translators: a funnel step's count and its share of the step before, e.g.
        # "50（前段からの割合 25.0 %）"; English uses ASCII brackets.
        text = (
            _("%(value)s（%(share)s）") % {"value": _n(value), "share": share}
            if share
            else _n(value)
        )
        rows.append((label, value, share, text, FUNNEL_COLOURS[i % len(FUNNEL_COLOURS)]))
        previous = value
    desc = "; ".join(f"{label}: {text}" for label, _v, _s, text, _c in rows)
    if not any(value for _, value in steps):
        desc = f"{empty_label}。{desc}"

    # Wide: label | bar | count over share.
    label_w = max(120, math.ceil(max([text_width(r[0], 13) for r in rows] + [0])) + 18)
    row_h, top = 46, 8
    tail = max([text_width(r[2], 11) for r in rows] + [text_width(_n(biggest), 13, bold=True)])
    # At least 680 wide (the bars take what the labels leave), so the text keeps its size.
    bar_w = max(330, 680 - label_w - 20 - math.ceil(tail))
    wide_width = label_w + bar_w + 10 + math.ceil(tail) + 10
    wide_parts: list[SafeString] = []
    for i, (label, value, share, text, colour) in enumerate(rows):
        y = top + i * row_h
        wide_parts.append(
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
                w=round(bar_w * value / biggest) if value else 0,
                colour=colour,
                text=text,
                vx=label_w + bar_w + 10,
                value=_n(value),
                muted=MUTED,
                share=share,
            )
        )
    wide_height = top + row_h * len(rows) + 8

    # Narrow: label and count on one line, the bar under them, the share under the bar.
    width, n_row = NARROW_WIDTH, 64
    narrow_parts: list[SafeString] = []
    for i, (label, value, share, text, colour) in enumerate(rows):
        y = 4 + i * n_row
        narrow_parts.append(
            format_html(
                '<g class="chart-step"><text x="0" y="{ty}">{label}</text>'
                '<text x="{vx}" y="{ty}" text-anchor="end" font-weight="600">{value}</text>'
                '<rect x="0" y="{by}" width="{bw}" height="14" rx="3" fill="#eef1f6"/>'
                '<rect x="0" y="{by}" width="{w}" height="14" rx="3" fill="{colour}">'
                "<title>{label}: {text}</title></rect>"
                '<text x="0" y="{sy}" fill="{muted}" font-size="12">{share}</text></g>',
                ty=y + 14,
                vx=width,
                label=label,
                value=_n(value),
                by=y + 21,
                bw=width,
                w=round(width * value / biggest) if value else 0,
                colour=colour,
                text=text,
                sy=y + 51,
                muted=MUTED,
                share=share,
            )
        )
    narrow_height = 4 + n_row * len(rows) - (14 if rows and not rows[-1][2] else 0)
    return _both(
        chart_id=chart_id,
        title=title,
        desc=desc,
        wide=(wide_width, wide_height, _join(wide_parts)),
        narrow=(width, max(narrow_height, 20), _join(narrow_parts)),
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
    # Plain f-strings (with the colour and tip escaped): a trend chart draws ~100 markers per
    # page and format_html's per-argument escaping was a third of the dashboard's CPU.
    fill = escape(colour)
    if kind == "square":
        shape = f'<rect x="{x - 4}" y="{y - 4}" width="8" height="8" fill="{fill}"'
        tag = "rect"
    elif kind == "diamond":
        points = f"{x},{y - 5} {x + 5},{y} {x},{y + 5} {x - 5},{y}"
        shape, tag = f'<polygon points="{points}" fill="{fill}"', "polygon"
    elif kind == "triangle":
        points = f"{x},{y - 5} {x + 5},{y + 4} {x - 5},{y + 4}"
        shape, tag = f'<polygon points="{points}" fill="{fill}"', "polygon"
    else:
        shape, tag = f'<circle cx="{x}" cy="{y}" r="4" fill="{fill}"', "circle"
    return mark_safe(f"{shape}><title>{escape(tip)}</title></{tag}>")  # noqa: S308


def _legend_entry(s: Series, x: float, y: float) -> SafeString:
    return format_html(
        '<g class="chart-legend"><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" '
        'stroke-width="3" stroke-dasharray="{}"/>{}<text x="{}" y="{}">{}</text></g>',
        x,
        y,
        x + 24,
        y,
        s.colour,
        s.dash or "none",
        _marker(s.marker, x + 12, y, s.colour, s.name),
        x + 30,
        y + 4,
        s.name,
    )


def _trend_layout(
    *,
    months: Sequence[str],
    series: Sequence[Series],
    narrow: bool,
) -> tuple[int, int, SafeString]:
    biggest = max([v for s in series for v in s.values] + [0])
    ceiling = _nice_ceiling(biggest)
    axis_size = 12 if narrow else 11
    end_size = 12
    left = math.ceil(text_width(_n(ceiling), axis_size)) + 14
    if months:  # the first month's label is centred on the axis: room for its left half
        left = max(left, math.ceil(text_width(months[0], axis_size) / 2) + 4)
    # End-of-line labels: the phone layout writes the value only (the legend names the line).
    end_texts = {
        id(s): (_n(s.values[-1]) if narrow else f"{_n(s.values[-1])} {s.name}")
        for s in series
        if s.values
    }
    end_w = max([text_width(t, end_size, bold=True) for t in end_texts.values()] + [0])
    right = math.ceil(end_w) + 16
    last_month_w = text_width(months[-1], axis_size) / 2 if months else 0
    right = max(right, math.ceil(last_month_w) + 4)

    # Legend: one entry per row on a phone; wrapped rows on the wide chart.
    width = NARROW_WIDTH if narrow else max(760, left + 440 + right)
    legend: list[SafeString] = []
    row_h = 22
    x, row = 0.0, 0
    for s in series:
        entry_w = 30 + text_width(s.name, 13) + 24
        if not narrow and x and x + entry_w > width:
            x, row = 0.0, row + 1
        legend.append(_legend_entry(s, round((0 if narrow else left) + x), 14 + row * row_h))
        if narrow:
            row += 1
        else:
            x += entry_w
    rows = row if narrow else row + 1
    top = 14 + rows * row_h + (6 if narrow else 4)
    plot_h = 190 if narrow else 236
    bottom = 34
    height = top + plot_h + bottom
    plot_w = width - left - right
    count = max(len(months), 1)
    step_x = plot_w / max(count - 1, 1)

    # Whole units: the markup stays short and carries no stray decimals.
    def px(i: int) -> int:
        return round(left + (i * step_x if count > 1 else plot_w / 2))

    def py(v: int) -> int:
        return round(top + plot_h - plot_h * v / ceiling)

    parts: list[SafeString] = list(legend)
    for k in range(5):
        value = ceiling * k // 4
        y = py(value)
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>'
                '<text x="{}" y="{}" text-anchor="end" fill="{}" font-size="{}">{}</text>',
                left,
                y,
                left + plot_w,
                y,
                GRID,
                left - 8,
                y + 4,
                MUTED,
                axis_size,
                _n(value),
            )
        )
    month_w = max([text_width(m, axis_size) for m in months] + [1]) + 10
    label_every = max(1, math.ceil(month_w / step_x)) if count > 1 else 1
    for i, month in enumerate(months):
        # Every n-th month, counted back from the last one so the newest month is labelled.
        if (count - 1 - i) % label_every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}" font-size="{}">{}</text>',
                    px(i),
                    top + plot_h + 20,
                    MUTED,
                    axis_size,
                    month,
                )
            )
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
            if i < len(months)
        )
    # The last value of each series next to its line, nudged apart so labels never overlap.
    ends = sorted(
        ((py(s.values[-1]) + 4, s) for s in series if s.values),
        key=lambda item: item[0],
        reverse=True,
    )
    placed: list[float] = []
    for y, s in ends:
        y = min(y, top + plot_h + 4)
        if placed and placed[-1] - y < 15:
            y = placed[-1] - 15
        placed.append(y)
        parts.append(
            format_html(
                '<text x="{}" y="{}" fill="{}" font-size="{}" font-weight="600">{}</text>',
                px(len(s.values) - 1) + 8,
                y,
                s.colour,
                end_size,
                end_texts[id(s)],
            )
        )
    return width, height, _join(parts)


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
    biggest = max([v for s in series for v in s.values] + [0])
    desc = "; ".join(
        f"{s.name}: " + ", ".join(f"{m} {_n(v)}" for m, v in zip(months, s.values, strict=False))
        for s in series
    )
    if biggest == 0:
        desc = f"{empty_label}。{desc}"
    return _both(
        chart_id=chart_id,
        title=title,
        desc=desc,
        wide=_trend_layout(months=months, series=series, narrow=False),
        narrow=_trend_layout(months=months, series=series, narrow=True),
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
