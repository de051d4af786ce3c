"""Dashboard charts drawn on the server as SVG with matplotlib: no JavaScript, nothing fetched from
outside (the service runs offline). Returned as data: URIs for <img> tags."""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Callable
from datetime import date

from pensioncert.admin.dashboard import CATEGORIES

COLOURS = {"certified": "#2e7d32", "due": "#90a4ae", "in_window": "#1976d2", "overdue": "#f9a825",
           "suspended": "#c62828"}
# Noto Sans CJK ships with Debian (fonts-noto-cjk); without it Chinese labels render as boxes.
FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "DejaVu Sans"]


def _figure(width: float, height: float):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams["font.sans-serif"] = FONTS
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["svg.hashsalt"] = "pensioncert"  # deterministic SVG ids
    # Constrained layout reserves room for the title and an "outside" legend, whatever the height:
    # a legend placed by hand in axes fractions drifted onto the title on short charts.
    return plt.subplots(figsize=(width, height), layout="constrained")


def _data_uri(fig) -> str:  # type: ignore[no-untyped-def]
    from matplotlib import pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def stacked_bars(groups: dict[str, Counter[str]], label: Callable[[str], str], title: str) -> str:
    """One horizontal bar per group, stacked by category."""
    return _data_uri(stacked_bars_figure(groups, label, title))


def stacked_bars_figure(groups: dict[str, Counter[str]], label: Callable[[str], str], title: str):  # type: ignore[no-untyped-def]
    """The figure of ``stacked_bars``: the title on top, the legend in its own row under the chart."""
    names = sorted(groups)
    fig, ax = _figure(7, 0.45 * max(len(names), 2) + 1.6)
    left = [0] * len(names)
    for kind in CATEGORIES:
        values = [groups[name][kind] for name in names]
        ax.barh(names, values, left=left, color=COLOURS[kind], label=label(kind))
        left = [a + b for a, b in zip(left, values, strict=True)]
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    ax.invert_yaxis()
    fig.legend(loc="outside lower center", ncol=len(CATEGORIES), frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def progress_line(points: list[tuple[date, float]], title: str) -> str:
    """Share of in-scope retirees certified within the cycle ending each month."""
    fig, ax = _figure(7, 2.6)
    ax.plot([f"{d:%Y-%m}" for d, _ in points], [share * 100 for _, share in points], marker="o", color="#1976d2")
    ax.set_ylim(0, 100)
    ax.set_ylabel("%")
    ax.set_title(title)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    return _data_uri(fig)
