"""The SVG charts: accessible, escaped, readable without script."""

from __future__ import annotations

from companies.charts import funnel_svg, trend_series, trend_svg


def test_funnel_chart_is_an_labelled_image_with_text_labels_and_rates():
    svg = str(
        funnel_svg(
            chart_id="f",
            title="紹介ファネル",
            steps=[("クリック", 200), ("登録", 50), ("有効紹介", 10), ("入社", 0)],
        )
    )
    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert 'aria-labelledby="f-title f-desc"' in svg
    assert '<title id="f-title">紹介ファネル</title>' in svg
    assert "登録: 50（前段からの割合 25.0 %）" in svg
    assert ">200<" in svg
    assert "<script" not in svg
    assert "style=" not in svg


def test_charts_escape_labels():
    svg = str(
        trend_svg(
            chart_id="t",
            title="<b>x</b>",
            months=["2026-10", "2026-11"],
            series=trend_series([("<script>alert(1)</script>", [1, 2])]),
        )
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "&lt;b&gt;" in svg


def test_trend_chart_states_every_point_in_its_description_and_handles_no_data():
    svg = str(
        trend_svg(
            chart_id="t",
            title="推移",
            months=["2026-10", "2026-11"],
            series=trend_series([("登録", [0, 0]), ("有効紹介", [0, 0])]),
        )
    )
    assert "この期間のデータはまだありません" in svg
    assert "登録: 2026-10 0, 2026-11 0" in svg
    svg = str(
        trend_svg(
            chart_id="t",
            title="推移",
            months=["2026-10", "2026-11"],
            series=trend_series([("登録", [3, 1234])]),
        )
    )
    assert "登録 2026-11: 1,234" in svg
    assert 'stroke-dasharray="none"' in svg
