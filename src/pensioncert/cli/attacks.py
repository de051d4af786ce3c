"""``pensioncert eval attacks``: issue #12's attacks through the production decision path."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pensioncert.cli.groups import eval_app

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Nothing of its own at the top level: ``eval attacks`` registers on import."""


@eval_app.command("attacks")
def eval_attacks(
    split: Annotated[str, typer.Option("--split", help="Seeds to run: report (figures) or tuning.")] = "report",
    seeds: Annotated[int, typer.Option("--seeds", help="Run only the first N seeds of the split (0: all).")] = 0,
    only: Annotated[str, typer.Option("--only", help="Comma-separated attempt kinds (default: all).")] = "",
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes, one seed each.")] = 1,
    genuine_repeat: Annotated[int, typer.Option("--genuine-repeat", min=1,
                                                help="Genuine attempts of each genuine kind per seed.")] = 1,
    details: Annotated[bool, typer.Option("--details", help="Add every attempt to the JSON.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: apcer, bpcer, counts.")] = False,
) -> None:
    """APCER per attack and BPCER, every attempt a whole visit through the API and the worker's job."""
    from pensioncert.evaluation.attacks import ATTACKS, GENUINE, SPLITS, summarise

    if split not in SPLITS:
        raise typer.BadParameter(f"--split must be one of {', '.join(SPLITS)}")
    chosen = list(SPLITS[split])[: seeds or None]
    kinds = [k.strip() for k in only.split(",") if k.strip()] or [*GENUINE, *ATTACKS]
    unknown = set(kinds) - set(GENUINE) - set(ATTACKS)
    if unknown:
        raise typer.BadParameter(f"unknown kinds {sorted(unknown)}; known: {', '.join((*GENUINE, *ATTACKS))}")
    kinds = [k for kind in kinds for k in [kind] * (genuine_repeat if kind in GENUINE else 1)]
    records: list[Any] = []
    with _progress() as bar:
        task = bar.add_task("attacks", total=len(chosen) * len(kinds))
        if workers == 1:
            from pensioncert.evaluation.attacks import run_seed

            for seed in chosen:
                for record in run_seed(seed, kinds, progress=lambda label: bar.update(task, description=label)):
                    records.append(record)
                    bar.advance(task)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for batch in pool.map(_run_seed_list, chosen, [kinds] * len(chosen)):
                    records.extend(batch)
                    bar.advance(task, len(batch))
    report = summarise(records, chosen)
    if as_json:
        print(json.dumps(report.as_dict(details), indent=1, ensure_ascii=False))
        return
    _print(report)


@eval_app.command("timing")
def eval_timing(
    split: Annotated[str, typer.Option("--split", help="tuning (choose) or report (quote).")] = "report",
    trials: Annotated[int, typer.Option("--trials", min=100, help="Simulated answers per variant.")] = 20000,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """How often a genuine answer made for one schedule fits a fresh one (same content): timing's share."""
    from pensioncert.evaluation.timing import SPLIT_SEEDS, simulate
    from pensioncert.settings import get_settings

    if split not in SPLIT_SEEDS:
        raise typer.BadParameter(f"--split must be one of {', '.join(SPLIT_SEEDS)}")
    report = simulate(get_settings().liveness, trials=trials, seed=SPLIT_SEEDS[split])
    if as_json:
        print(json.dumps(report.as_dict(), indent=1))
        return
    table = Table(title=f"Timed prompts: same content replayed to a fresh schedule ({trials} trials, {split})")
    for column in ("challenge", "genuine fit", "replay fit", "mean / max recording (s)"):
        table.add_column(column, justify="right")
    for name in report.replay_fit:
        table.add_row(name, f"{100 * report.genuine_fit[name]:.1f} %", f"{100 * report.replay_fit[name]:.1f} %",
                      f"{report.mean_record_seconds[name]} / {report.max_record_seconds[name]}")
    Console().print(table)


@eval_app.command("replay")
def eval_replay(
    split: Annotated[str, typer.Option("--split", help="tuning (choose) or report (quote).")] = "report",
    pairs: Annotated[int, typer.Option("--pairs", help="Run only the first N pairs of the split (0: all).")] = 0,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes, one pair each.")] = 1,
    cache: Annotated[str, typer.Option("--cache", help="Folder keeping the traces for reruns.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replays of a kept recording against genuine re-performances: the replay check's similarities."""
    from pensioncert.evaluation import replay

    if split not in replay.SPLITS:
        raise typer.BadParameter(f"--split must be one of {', '.join(replay.SPLITS)}")
    chosen = replay.pairs(split, pairs)
    results: list[tuple[str, float]] = []
    with _progress() as bar:
        task = bar.add_task(f"replay pairs ({split})", total=len(chosen))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            faces, seeds = zip(*chosen, strict=True)
            for batch in pool.map(replay.run_pair, faces, seeds, [cache or None] * len(chosen)):
                results.extend(batch)
                bar.advance(task)
    report = replay.summarise(split, results)
    if as_json:
        print(json.dumps(report.as_dict(), indent=1))
        return
    table = Table(title=f"Replay check ({split}, {len(chosen)} kept recordings, threshold {report.threshold})")
    for column in ("case", "n", "min", "median", "max", "at or above threshold"):
        table.add_column(column, justify="right")
    rates = report.rates()
    for case, values in report.similarity.items():
        table.add_row(case, str(len(values)), f"{min(values):.3f}", f"{np.median(values):.3f}", f"{max(values):.3f}",
                      f"{100 * rates[case]:.0f} %")
    Console().print(table)


def _run_seed_list(seed: int, kinds: list[str]) -> list[Any]:
    from pensioncert.evaluation.attacks import run_seed

    return list(run_seed(seed, kinds))


def _print(report: Any) -> None:
    out = Console()
    table = Table(title=f"Attacks through the production decision path (seeds {report.seeds})")
    table.add_column("attempt")
    table.add_column("n", justify="right")
    table.add_column("APCER / BPCER", justify="right")
    for attack, value in report.apcer.items():
        table.add_row(attack, str(report.counts[attack]), f"{100 * value:.0f} %")
    for kind, value in report.bpcer_by_kind.items():
        table.add_row(kind, "", f"BPCER {100 * value:.0f} %")
    table.add_row("[b]genuine (all)[/b]", str(report.counts["genuine"]), f"[b]BPCER {100 * report.bpcer:.0f} %[/b]")
    out.print(table)
    for r in report.records:
        if r.outcome.passed == r.is_attack:
            out.print(f"[red]error[/red] seed {r.seed} {r.kind}: {r.outcome.result} {', '.join(r.outcome.reasons)}"
                      f" {r.outcome.challenge}")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)
