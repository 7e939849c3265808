"""The SVG charts: a wide and a phone layout, room for every label (Japanese and English), the
English funnel text with ASCII brackets."""

from __future__ import annotations

import re

from django.utils import translation

from companies.charts import NARROW_WIDTH, funnel_svg, text_width, trend_series, trend_svg

MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


def _svgs(markup: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", markup, flags=re.S)


def _viewbox_width(svg: str) -> float:
    return float(re.search(r'viewBox="0 0 ([\d.]+) [\d.]+"', svg).group(1))


def test_every_chart_comes_as_a_wide_and_a_phone_layout_each_a_labelled_image():
    markup = str(
        trend_svg(
            chart_id="lt",
            title="推移",
            months=MONTHS,
            series=trend_series([("登録", list(range(12))), ("有効紹介", [1] * 12)]),
        )
    )
    wide, narrow = _svgs(markup)
    assert 'class="chart chart-wide" id="lt"' in wide
    assert 'class="chart chart-narrow" id="lt-narrow"' in narrow
    for svg, chart_id in ((wide, "lt"), (narrow, "lt-narrow")):
        assert 'role="img"' in svg
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg
        assert f'<title id="{chart_id}-title">推移</title>' in svg
        assert "登録: 2026-01 0, 2026-02 1" in svg
        assert "style=" not in svg
    assert _viewbox_width(narrow) == NARROW_WIDTH
    # The phone layout uses no text smaller than 12 units (11.7 px on a 390 px screen).
    sizes = [int(s) for s in re.findall(r'font-size="(\d+)"', narrow)]
    assert min(sizes) >= 12


def test_end_labels_fit_inside_the_wide_chart_in_english():
    names = [("To registration (hours)", [0] * 11 + [3]), ("To qualification (hours)", [551] * 12)]
    svg = _svgs(str(trend_svg(chart_id="t", title="t", months=MONTHS, series=trend_series(names))))[
        0
    ]
    width = _viewbox_width(svg)
    for value, name in (("3", names[0][0]), ("551", names[1][0])):
        label = re.search(
            rf'<text x="([\d.]+)"[^>]*font-weight="600">{value} {re.escape(name)}<', svg
        )
        assert label, name
        right_end = float(label.group(1)) + text_width(f"{value} {name}", 12, bold=True)
        assert right_end <= width, (name, right_end, width)


def test_legend_entries_do_not_overlap():
    names = [("クリックから登録まで（時間）", [1, 2]), ("To qualification (hours)", [3, 4])]
    svg = _svgs(
        str(trend_svg(chart_id="t", title="t", months=MONTHS[:2], series=trend_series(names)))
    )[0]
    entries = re.findall(
        r'<g class="chart-legend"><line x1="([\d.]+)" y1="(\d+)"'
        r'.*?<text x="([\d.]+)" y="\d+">([^<]+)</text>',
        svg,
    )
    assert len(entries) == 2
    (_x1, y1, tx1, name1), (x2, y2, _tx2, _name2) = entries
    if y1 == y2:  # same row: the second marker starts after the first name ends
        assert float(x2) >= float(tx1) + text_width(name1, 13)


def test_funnel_text_follows_the_language():
    steps = [("クリック", 200), ("登録", 50)]
    assert "登録: 50（前段からの割合 25.0 %）" in str(
        funnel_svg(chart_id="f", title="t", steps=steps)
    )
    with translation.override("en"):
        svg = str(
            funnel_svg(
                chart_id="f",
                title="t",
                steps=[("Clicks", 200), ("Registered", 50)],
                rate_label="of the step before",
            )
        )
    assert "Registered: 50 (of the step before 25.0 %)" in svg
    assert "（" not in svg


def test_funnel_label_column_is_as_wide_as_its_longest_label():
    long_label = "Registered and verified by email"
    wide = _svgs(str(funnel_svg(chart_id="f", title="t", steps=[(long_label, 5), ("x", 1)])))[0]
    anchor = float(
        re.search(r'<text x="([\d.]+)" y="\d+" text-anchor="end">' + long_label, wide).group(1)
    )
    assert anchor - text_width(long_label, 13) >= 0
