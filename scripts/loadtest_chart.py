"""Chart a sitting of ``pensioncert loadtest --json`` runs: the start against the final code, and workers per core.

    python scripts/loadtest_chart.py OUT.png --title TEXT \\
        --run "start 16:45=start.json" --run "final 16:47=final.json" ... \\
        --workers "1=w1.json" --workers "2=final.json" --workers "3=w3.json"

A run whose label begins with "start" is drawn grey, "final" blue, anything else (``--pool``) cyan.
Each file is the command's output; text before the JSON object (progress lines) is skipped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _load(path: str) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    return dict(json.loads(text[text.index("{"):]))


def _pairs(values: list[str]) -> list[tuple[str, dict[str, Any]]]:
    return [(label, _load(path)) for label, path in (value.rsplit("=", 1) for value in values)]


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--title", default="loadtest --workers 2 --duration 60, one sitting")
    parser.add_argument("--run", action="append", default=[], help="LABEL=FILE, in the order run")
    parser.add_argument("--workers", action="append", default=[], help="N=FILE, the final code with N workers")
    args = parser.parse_args()
    runs, by_workers = _pairs(args.run), _pairs(args.workers)

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    colours = [("grey" if label.startswith("start") else "tab:blue" if label.startswith("final") else "tab:cyan")
               for label, _ in runs]
    rates = [result["certifications_per_s"] for _, result in runs]
    bars = left.bar(range(len(runs)), rates, color=colours)
    for bar, (_, result) in zip(bars, runs, strict=True):
        left.annotate(f"{result['certifications_per_s']:.3f}\n{result['passed']} ok\n{result['errors']} err",
                      (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom", fontsize=8)
    left.set_xticks(range(len(runs)), [label.replace(" ", "\n", 1) for label, _ in runs])
    left.set_ylabel("certifications / s")
    left.set_ylim(0, max([*rates, 0.1]) * 1.3)
    left.set_title(args.title, fontsize=10)

    if by_workers:
        counts = [int(label) for label, _ in by_workers]
        rate = [result["certifications_per_s"] for _, result in by_workers]
        run_p50 = [max(worker["run_p50_ms"] for worker in result["per_worker"]) / 1000 for _, result in by_workers]
        right.plot(counts, rate, "o-", color="tab:blue", label="certifications / s")
        for x, y in zip(counts, rate, strict=True):
            right.annotate(f"{y:.3f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        right.set_ylim(0, max(rate) * 1.3)
        right.set_xticks(counts)
        right.set_xlabel("worker processes (2 cores)")
        right.set_ylabel("certifications / s")
        twin = right.twinx()
        twin.plot(counts, run_p50, "s--", color="tab:orange", label="verification run p50 (s), slowest worker")
        twin.set_ylim(0, max(run_p50) * 1.5)
        twin.set_ylabel("run time per job, p50 (s)", color="tab:orange")
        lines = right.get_lines() + twin.get_lines()
        right.legend(lines, [line.get_label() for line in lines], loc="lower right", fontsize=8)
        right.set_title("Final code: worker processes on 2 cores", fontsize=10)
    else:
        right.axis("off")
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
