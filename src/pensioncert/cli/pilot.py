"""``pensioncert pilot check|sample`` and ``pensioncert eval pilot``: the agency's own validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pensioncert.cli.groups import eval_app

if TYPE_CHECKING:
    from pensioncert.evaluation.pilot.manifest import Manifest

pilot_app = typer.Typer(help="Pilot validation: check a manifest, build the sample pilot.", no_args_is_help=True)
console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add the ``pilot`` group (``eval pilot`` registers on import)."""
    app.add_typer(pilot_app, name="pilot")


def _load(manifest: Path) -> Manifest:
    from pensioncert.evaluation.pilot import load_manifest

    loaded = load_manifest(manifest)
    attacks = sum(r.is_attack for r in loaded.rows)
    console.print(f"{manifest}: {loaded.total} rows, {len(loaded.rows)} usable "
                  f"({len(loaded.rows) - attacks} genuine, {attacks} attacks), {len(loaded.errors)} errors")
    for error in loaded.errors:
        console.print(f"  [yellow]{error.text('en')}[/]  {error.text('zh')}")
    return loaded


@pilot_app.command("check")
def check(manifest: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX manifest.")]) -> None:
    """Validate a pilot manifest (missing files, unknown species, duplicates…): exit 1 on any row error."""
    loaded = _load(manifest)
    raise typer.Exit(0 if loaded.ok else 1)


@pilot_app.command("sample")
def sample(
    out: Annotated[Path, typer.Argument(help="Folder for the sample pilot (manifest.csv and recordings).")],
    subjects: Annotated[int, typer.Option("--subjects", min=1, help="Synthetic volunteers.")] = 8,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Build a sample pilot from the synthetic subjects (genuine and the attacks the project renders)."""
    from pensioncert.evaluation.pilot.sample import build_sample

    with _progress() as bar:
        task = bar.add_task("sample pilot", total=None)
        manifest = build_sample(out, subjects=subjects, seed=seed,
                                progress=lambda label: bar.update(task, description=label))
    console.print(f"wrote {manifest}")


@eval_app.command("pilot")
def eval_pilot(
    manifest: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX manifest.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for report.json, report.html, decisions.csv.")],
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes, each with its own harness.")] = 1,
    propose_thresholds: Annotated[bool, typer.Option(
        "--propose-thresholds", help="Propose thresholds on a tuning half, report them on the held-out half.")]
    = False,
    target_apcer: Annotated[float, typer.Option("--target-apcer")] = 0.01,
    target_bpcer: Annotated[float, typer.Option("--target-bpcer")] = 0.05,
) -> None:
    """Every recording through the production decision path; APCER/BPCER with 95 % intervals."""
    from pensioncert.evaluation.pilot import run_pilot, write_report

    loaded = _load(manifest)
    if not loaded.ok:
        raise typer.Exit(1)
    rows = loaded.rows
    with _progress() as bar:
        task = bar.add_task("deciding", total=len(rows))
        decisions = run_pilot(rows, workers=workers, progress=lambda d: bar.advance(task))
    report = write_report(out, decisions, manifest=str(manifest))
    bpcer = report["bpcer"]
    console.print(f"BPCER {bpcer['errors']}/{bpcer['n']}; APCER "
                  + ", ".join(f"{k} {v['errors']}/{v['n']}" for k, v in report["apcer"].items()))
    console.print(f"wrote {out / 'report.json'}, {out / 'report.html'}, {out / 'decisions.csv'}")
    if propose_thresholds:
        from pensioncert.evaluation.pilot.thresholds import propose

        proposal = propose(decisions, target_apcer=target_apcer, target_bpcer=target_bpcer)
        (out / "proposed_thresholds.json").write_text(json.dumps(proposal, indent=1), encoding="utf-8")
        console.print(f"Proposed on the tuning half ({proposal['split']['tuning']} recordings), reported on "
                      f"the held-out half ({proposal['split']['held_out']}); nothing was changed:")
        for line in proposal["settings_lines"]:
            print(line)
        for warning in proposal["warnings"]:
            console.print(f"[yellow]warning:[/] {warning}")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)
