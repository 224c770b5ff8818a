"""Server-drawn SVG charts: well-formed, escaped, accessible and the same for the same figures."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from hotline.reports.charts import bar_chart, donut

SVG = "{http://www.w3.org/2000/svg}"
SERIES = [("生活照料", [1, 2]), ("家政维修", [0, 3])]


def test_the_same_figures_draw_the_same_chart():
    assert bar_chart("c", "标题", ["2026-03", "2026-04"], SERIES, stacked=True) == \
        bar_chart("c", "标题", ["2026-03", "2026-04"], SERIES, stacked=True)


def test_a_chart_has_a_title_a_description_and_a_tooltip_per_bar():
    svg = ET.fromstring(str(bar_chart("c", "各类服务单", ["2026-03", "2026-04"], SERIES)))
    assert svg.get("class") == "chart" and svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "各类服务单"
    assert "2026-04: 生活照料 2, 家政维修 3" in svg.find(f"{SVG}desc").text
    tips = [r.find(f"{SVG}title").text for r in svg.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert "2026-04 · 家政维修: 3" in tips and len(tips) == 4


def test_text_in_a_chart_is_escaped():
    chart = str(bar_chart("x", "<script>&", ['<b a="1">'], [("'s", [1])]))
    svg = ET.fromstring(chart)
    assert "<script>" not in chart
    assert svg.find(f"{SVG}title").text == "<script>&"
    assert '<b a="1">' in ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]


def test_stacked_bars_reach_the_sum_and_grouped_bars_their_own_value():
    def heights(chart):
        return [float(r.get("height")) for r in ET.fromstring(str(chart)).iter(f"{SVG}rect") if r.get("class") == "bar"]
    # The tallest stack is 2 + 3 = 5; ticks of 2 make the axis top 6 over 180 px: 1 -> 30, 0, 2 -> 60, 3 -> 90.
    assert heights(bar_chart("s", "t", ["a", "b"], SERIES, stacked=True)) == [30, 0, 60, 90]
    # Grouped, the tallest bar is 3: axis top 3, so 3 -> 180.
    assert max(heights(bar_chart("g", "t", ["a", "b"], SERIES))) == 180


def test_a_donut_shows_each_parts_share_and_an_empty_one_a_dash():
    svg = ET.fromstring(str(donut("d", "到场", [("及时", 3), ("不及时", 1)])))
    texts = ["".join(t.itertext()) for t in svg.iter(f"{SVG}text")]
    assert "75.0%" in texts and "不及时: 1 (25.0%)" in texts
    empty = ET.fromstring(str(donut("e", "到场", [("及时", 0), ("不及时", 0)])))
    assert "—" in ["".join(t.itertext()) for t in empty.iter(f"{SVG}text")]
    assert not [p for p in empty.iter() if p.get("class") == "slice"]
