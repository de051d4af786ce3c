"""Dashboard charts: the legend never covers the title or the bars, whatever the number of rows or language."""

from __future__ import annotations

from collections import Counter

import pytest

from pensioncert import messages
from pensioncert.admin import charts


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("rows", [1, 2, 9])
def test_legend_keeps_clear_of_title_and_bars(lang: str, rows: int) -> None:
    groups = {f"{messages.text('admin.field.district', lang)} {i}": Counter(
        certified=30 + i, due=5, in_window=7, overdue=2, suspended=1) for i in range(rows)}
    fig = charts.stacked_bars_figure(groups, lambda kind: messages.text(f"admin.category.{kind}", lang),
                                     messages.text("admin.dashboard.by_district", lang))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    title = fig.get_suptitle() and fig._suptitle.get_window_extent(renderer)
    legend = fig.legends[0].get_window_extent(renderer)
    axes = fig.axes[0].get_tightbbox(renderer)
    assert title and not title.overlaps(legend)
    assert not legend.overlaps(axes) and not title.overlaps(axes)
    width, height = fig.canvas.get_width_height()
    assert legend.x0 >= 0 and legend.x1 <= width and legend.y0 >= 0 and title.y1 <= height  # nothing cut off


def test_chart_is_an_svg_data_uri() -> None:
    uri = charts.stacked_bars({"福田区": Counter(certified=1)}, str, "按区统计")
    assert uri.startswith("data:image/svg+xml;base64,")
