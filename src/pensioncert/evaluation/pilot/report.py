"""The pilot's report: ``report.json`` (figures with intervals), ``report.html`` (tables and
pictures) and ``decisions.csv`` (one row per recording, so staff can look at each error).

APCER per attack species = share of that species' attempts that *passed*; BPCER = share of
genuine attempts that did not pass (failed, sent to review, refused or in error: each costs
the retiree a trip or a wait). Face matching: FNMR over the genuine recordings' distances to
their reference, FMR over the ``other_person`` attacks' distances (impostor pairs), both at
the configured threshold. Intervals: 95 % Clopper–Pearson.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pensioncert.evaluation.pilot.manifest import IMPOSTOR_SPECIES, SUBGROUPS
from pensioncert.evaluation.pilot.run import RowDecision
from pensioncert.evaluation.pilot.stats import Rate, det_points, match_errors, percentile, rate


def face_distances(decisions: Sequence[RowDecision]) -> tuple[list[float], list[float]]:
    """Distances of genuine pairs and of impostor pairs (rows where the face engine ran)."""
    genuine, impostor = [], []
    for d in decisions:
        distance = d.scores.get("face_distance")
        if not isinstance(distance, int | float) or math.isnan(float(distance)):
            continue
        if not d.is_attack:
            genuine.append(float(distance))
        elif d.kind in IMPOSTOR_SPECIES:
            impostor.append(float(distance))
    return genuine, impostor


def summarise(decisions: Sequence[RowDecision], *, manifest: str = "",
              threshold: float | None = None) -> dict[str, Any]:
    """Every figure of report.json, computed from the decisions alone."""
    from pensioncert.settings import get_settings

    threshold = get_settings().face.match_threshold if threshold is None else threshold
    by_species: dict[str, list[RowDecision]] = defaultdict(list)
    genuine = [d for d in decisions if not d.is_attack]
    for d in decisions:
        if d.is_attack:
            by_species[d.kind].append(d)
    apcer = {k: rate(sum(d.passed for d in v), len(v)) for k, v in sorted(by_species.items())}
    bpcer = rate(sum(not d.passed for d in genuine), len(genuine))
    subgroups: dict[str, dict[str, Rate]] = {}
    for column in SUBGROUPS:
        groups: dict[str, list[RowDecision]] = defaultdict(list)
        for d in genuine:
            groups[d.subgroups.get(column) or "(blank)"].append(d)
        if len(groups) > 1 or "(blank)" not in groups:
            subgroups[column] = {k: rate(sum(not d.passed for d in v), len(v)) for k, v in sorted(groups.items())}
    g_dist, i_dist = face_distances(decisions)
    fnmr, fmr = match_errors(g_dist, i_dist, threshold)
    seconds = [d.decision_seconds for d in decisions if d.decision_seconds > 0]
    reasons: dict[str, int] = defaultdict(int)
    for d in genuine:
        for code in d.reasons:
            reasons[code] += 1
    return {
        "manifest": manifest,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "recordings": len(decisions),
        "genuine": len(genuine),
        "attacks": len(decisions) - len(genuine),
        "apcer": {k: v.as_dict() for k, v in apcer.items()},
        "apcer_worst": max((v.value for v in apcer.values()), default=None),
        "bpcer": bpcer.as_dict(),
        "bpcer_by_subgroup": {c: {k: v.as_dict() for k, v in g.items()} for c, g in subgroups.items()},
        "genuine_rejection_reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "match": {"threshold": threshold, "fnmr": fnmr.as_dict(), "fmr": fmr.as_dict(),
                  "genuine_pairs": len(g_dist), "impostor_pairs": len(i_dist)},
        "decision_seconds": {"p50": _round(percentile(seconds, 50)), "p95": _round(percentile(seconds, 95)),
                             "n": len(seconds)},
    }


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 3)


def write_decisions_csv(path: Path, decisions: Sequence[RowDecision]) -> Path:
    """One row per recording: what was decided, why, and the scores behind it."""
    score_keys = sorted({k for d in decisions for k, v in d.scores.items() if isinstance(v, int | float)})
    columns = ["line", "file", "kind", "subject", *SUBGROUPS, "result", "error", "reasons", "decision_seconds",
               *score_keys]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for d in decisions:
            writer.writerow([d.line, d.file, d.kind, d.subject, *(d.subgroups.get(c, "") for c in SUBGROUPS),
                             d.result, "yes" if d.error else "", " ".join(d.reasons), round(d.decision_seconds, 3),
                             *(_cell(d.scores.get(k)) for k in score_keys)])
    return path


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


# ------------------------------------------------------------------ pictures


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def det_picture(genuine: Sequence[float], impostor: Sequence[float], threshold: float) -> str | None:
    """DET curve (FNMR against FMR, normal-deviate axes) of the face distances, as base64 PNG."""
    if not genuine or not impostor:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    points = det_points(genuine, impostor)
    floor = 0.5 / max(len(genuine), len(impostor))  # zero rates drawn at half a count

    def axis(p: float) -> float:
        return float(norm.ppf(min(max(p, floor), 1 - floor)))

    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    ax.plot([axis(p[1]) for p in points], [axis(p[2]) for p in points], "-", color="#1f5fa8", lw=1.8,
            drawstyle="steps-post", label="face distance")
    fnmr, fmr = match_errors(genuine, impostor, threshold)
    ax.plot([axis(fmr.value)], [axis(fnmr.value)], "o", color="#c0392b",
            label=f"threshold {threshold:g}: FMR {100 * fmr.value:.1f} %, FNMR {100 * fnmr.value:.1f} %")
    ticks = [t for t in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8) if floor <= t <= 1 - floor]
    ax.set_xticks([axis(t) for t in ticks], [f"{100 * t:g} %" for t in ticks])
    ax.set_yticks([axis(t) for t in ticks], [f"{100 * t:g} %" for t in ticks])
    ax.set_xlim(axis(floor) - 0.1, axis(1 - floor) + 0.1)
    ax.set_ylim(axis(floor) - 0.1, axis(1 - floor) + 0.1)
    ax.set_xlabel(f"FMR (impostor pairs, n = {len(impostor)})")
    ax.set_ylabel(f"FNMR (genuine pairs, n = {len(genuine)})")
    ax.set_title("DET curve of the face match")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return _png(fig)


def rate_bars(rates: dict[str, dict[str, Any]], title: str, xlabel: str, colour: str) -> str | None:
    """Horizontal bars of rates with their 95 % intervals, labelled "errors/n", as base64 PNG."""
    if not rates:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(rates)
    values = [100 * (rates[k]["rate"] or 0.0) for k in names]
    low = [v - 100 * (rates[k]["ci_low"] or 0.0) for k, v in zip(names, values, strict=True)]
    high = [100 * (rates[k]["ci_high"] or 0.0) - v for k, v in zip(names, values, strict=True)]
    fig, ax = plt.subplots(figsize=(6.2, 0.45 * len(names) + 1.3))
    y = list(range(len(names)))
    ax.barh(y, values, color=colour, alpha=0.85)
    ax.errorbar(values, y, xerr=[low, high], fmt="o", color=colour, ecolor="#333333", capsize=4, lw=1.2, ms=5)
    for i, k in enumerate(names):
        ax.text(100 * (rates[k]["ci_high"] or 0.0) + 1.5, i, f"{rates[k]['errors']}/{rates[k]['n']}", va="center",
                fontsize=8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


# ------------------------------------------------------------------ HTML


def write_html(path: Path, report: dict[str, Any], decisions: Sequence[RowDecision]) -> Path:
    """A self-contained page (pictures inline) that staff open in any browser."""
    g_dist, i_dist = face_distances(decisions)
    det = det_picture(g_dist, i_dist, report["match"]["threshold"])
    apcer = rate_bars(report["apcer"], "APCER per attack species (95 % Clopper–Pearson)",
                      "attacks that passed (%)", "#c0392b")
    age = report["bpcer_by_subgroup"].get("age_band", {})
    bpcer_age = rate_bars(age, "BPCER by age band (95 % Clopper–Pearson)", "genuine attempts not passed (%)",
                          "#2e86c1")

    def pct(r: dict[str, Any]) -> str:
        if not r["n"]:
            return "–"
        return (f"{100 * r['rate']:.1f} % <span class=ci>[{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}]"
                f"</span> <span class=n>{r['errors']}/{r['n']}</span>")

    def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
        cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><tr>{cells}</tr>{body}</table>"

    def img(data: str | None, alt: str) -> str:
        return f'<img alt="{alt}" src="data:image/png;base64,{data}">' if data else f"<p class=n>({alt}: no data)</p>"

    match = report["match"]
    subgroup_tables = "".join(
        f"<h3>BPCER by {html.escape(column)}</h3>" + table([column, "BPCER [95 % CI] errors/n"],
                                                           [[html.escape(k), pct(v)] for k, v in groups.items()])
        for column, groups in report["bpcer_by_subgroup"].items())
    errors = [d for d in decisions if d.error]
    error_rows = [[str(d.line), html.escape(Path(d.file).name), html.escape(d.kind), html.escape(d.result),
                   html.escape(" ".join(d.reasons))] for d in errors]
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>试点验证报告 Pilot validation report</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Noto Sans", sans-serif; margin: 24px auto; max-width: 1100px;
       color: #222; }}
h1 {{ font-size: 22px; margin-bottom: 4px; }} h2 {{ font-size: 18px; border-bottom: 1px solid #ddd; }}
h3 {{ font-size: 15px; }}
table {{ border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }}
td, th {{ border: 1px solid #ccc; padding: 4px 10px; text-align: left; }} th {{ background: #f2f4f7; }}
.ci {{ color: #666; }} .n {{ color: #888; font-size: 12px; }}
.grid {{ display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }}
.headline {{ display: flex; gap: 16px; }} .headline div {{ border: 1px solid #ddd; padding: 8px 14px;
 border-radius: 6px; }} .big {{ font-size: 22px; font-weight: bold; }}
</style></head><body>
<h1>试点验证报告 · Pilot validation report</h1>
<p class=n>{html.escape(report['manifest'])} · {report['generated_at']} · {report['recordings']} recordings
({report['genuine']} genuine, {report['attacks']} attacks) · every recording decided by the production
job path · intervals: 95 % Clopper–Pearson</p>
<div class=headline>
<div>BPCER (genuine not passed)<div class=big>{pct(report['bpcer'])}</div></div>
<div>worst APCER (attacks passed)<div class=big>{'–' if report['apcer_worst'] is None
    else f"{100 * report['apcer_worst']:.1f} %"}</div></div>
<div>FNMR / FMR at {match['threshold']:g}<div class=big>{pct(match['fnmr'])}<br>{pct(match['fmr'])}</div></div>
<div>decision time p50 / p95<div class=big>{report['decision_seconds']['p50']} s /
 {report['decision_seconds']['p95']} s</div></div>
</div>
<h2>Presentation attacks (ISO/IEC 30107-3)</h2>
{table(['species', 'APCER [95 % CI] passed/n'], [[html.escape(k), pct(v)] for k, v in report['apcer'].items()])}
<div class=grid>{img(apcer, 'APCER per species')}{img(bpcer_age, 'BPCER by age band')}</div>
<h2>Genuine users</h2>
{table(['', 'BPCER [95 % CI] errors/n'], [['all genuine', pct(report['bpcer'])]])}
{subgroup_tables}
<h3>Why genuine attempts did not pass</h3>
{table(['reason', 'count'], [[html.escape(k), str(v)] for k, v in report['genuine_rejection_reasons'].items()]
      or [['(none)', '0']])}
<h2>Face match (ISO/IEC 19795-1)</h2>
{table(['', 'rate [95 % CI] errors/n'], [['FNMR (genuine pairs)', pct(match['fnmr'])],
                                        ['FMR (other_person attacks)', pct(match['fmr'])]])}
{img(det, 'DET curve')}
<h2>Errors to look at ({len(errors)})</h2>
{table(['line', 'file', 'kind', 'result', 'reasons'], error_rows or [['', '(none)', '', '', '']])}
<p class=n>decisions.csv lists every recording with its reasons and scores. See docs/validation.md for how many
attempts a claim needs.</p>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path


def write_report(out: Path, decisions: Sequence[RowDecision], *, manifest: str = "",
                 threshold: float | None = None) -> dict[str, Any]:
    """Write report.json, report.html and decisions.csv into ``out``; return the report."""
    out.mkdir(parents=True, exist_ok=True)
    report = summarise(decisions, manifest=manifest, threshold=threshold)
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    write_decisions_csv(out / "decisions.csv", decisions)
    write_html(out / "report.html", report, decisions)
    return report
