"""``pensioncert faces …``, ``pensioncert eval faces`` and ``pensioncert bench faces``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from pensioncert.cli.groups import bench_app, eval_app

faces_app = typer.Typer(help="Face engine: compare photos, list sample faces, build the dev set.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)  # progress and notes, so that --json output stays parseable


def register(app: typer.Typer) -> None:
    """Add the ``faces`` group to the main command (``eval``/``bench`` commands register on import)."""
    app.add_typer(faces_app, name="faces")


@faces_app.command("compare")
def compare(
    image_a: Path,
    image_b: Path,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare the main face of two images: distance, same person, threshold, quality of each."""
    from pensioncert import biometrics
    from pensioncert.messages import text

    try:
        result = biometrics.compare_images(image_a, image_b)
    except biometrics.FaceEngineError as error:
        if as_json:
            print(json.dumps({"error": error.code, "detail": error.detail}))
        else:
            console.print(f"[red]{text(error.code, 'en')}[/red] ({error.detail})")
        raise typer.Exit(2) from error
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    verdict = "[green]same person[/green]" if result.same_person else "[red]different people[/red]"
    console.print(f"distance {result.distance:.4f} (threshold {result.threshold}) → {verdict}")
    for label, report in (("A", result.quality_a), ("B", result.quality_b)):
        state = "ok" if report.ok else ", ".join(text(code, "en") for code in report.reasons)
        console.print(f"quality {label}: {state}")


@faces_app.command("samples")
def samples(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the real face photos found in installed packages (sources for the dev set and generators)."""
    from pensioncert.biometrics import sample_photos

    photos = sample_photos()
    if as_json:
        rows = [
            {"name": p.name, "person": p.person, "path": str(p.path), "source": p.source, "crop": p.crop,
             "annotated": p.annotated, "note": p.note}
            for p in photos
        ]
        print(json.dumps(rows))
        return
    table = Table("name", "person", "source", "annotated", "path")
    for p in photos:
        table.add_row(p.name, p.person, p.source, "yes" if p.annotated else "", str(p.path))
    console.print(table)
    console.print(f"{len(photos)} photos of {len({p.person for p in photos})} people")


@faces_app.command("devset")
def devset(
    directory: Path,
    variants: Annotated[int, typer.Option(help="Degraded variants per photo.")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed (the set is deterministic).")] = 20240601,
) -> None:
    """Write the development set: one folder per person, real photos plus realistic degradations."""
    _build_devset(directory, variants, seed)


def _build_devset(directory: Path, variants: int, seed: int) -> None:
    from pensioncert.biometrics.devset import build_devset

    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("building dev set", total=None)
        written = build_devset(
            directory, variants=variants, seed=seed,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    err_console.print(f"wrote {sum(written.values())} images of {len(written)} people to {directory}", style="dim")


@eval_app.command("faces")
def eval_faces(
    directory: Path,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    plot: Annotated[Path | None, typer.Option(help="ROC/DET PNG path (default DIR/roc_det.png).")] = None,
    build_devset: Annotated[bool, typer.Option("--build-devset", help="Build the dev set in DIR first.")] = False,
    threshold: Annotated[float | None, typer.Option(help="Override the configured threshold.")] = None,
    ungated: Annotated[bool, typer.Option("--ungated", help="Score images that fail quality gates too.")] = False,
) -> None:
    """Genuine/impostor statistics, FAR and FRR at the threshold, EER, ROC/DET plot, for DIR/<person>/*."""
    from pensioncert.biometrics.evaluation import evaluate, plot_roc_det

    if build_devset or not directory.exists():
        _build_devset(directory, 8, 20240601)
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("embedding faces", total=None)
        report = evaluate(
            directory, threshold, gated=not ungated,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    figure = plot_roc_det(report, plot or directory / "roc_det.png")
    summary = report.as_dict() | {"plot": str(figure)}
    if as_json:
        print(json.dumps(summary))
        return
    table = Table("pairs", "count", "mean", "std", "min", "p01", "p50", "p99", "max")
    for kind in ("genuine", "impostor"):
        stats = summary[kind]
        table.add_row(kind, str(summary[f"{kind}_pairs"]), *(str(stats.get(k, "")) for k in
                      ("mean", "std", "min", "p01", "p50", "p99", "max")))
    console.print(table)
    console.print(
        f"{summary['people']} people, {summary['images']} images ({'gated' if not ungated else 'ungated'}), "
        f"failure to acquire {summary['failure_to_acquire']:.2%}\n"
        f"threshold {report.threshold}: FAR {report.far:.4%}  FRR {report.frr:.2%}\n"
        f"EER {report.eer:.2%} at {report.eer_threshold:.3f}; at FAR ≤ 0.1 %: threshold "
        f"{report.threshold_at_target_far:.3f}, FRR {report.frr_at_target_far:.2%}\n"
        f"plot: {figure}"
    )


@bench_app.command("faces")
def bench_faces(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    repeats: Annotated[int, typer.Option(help="Timings per stage (median).")] = 15,
) -> None:
    """Per-frame detection, landmark, quality and embedding time, and the 4 s 640×480 video decision."""
    from pensioncert.biometrics.bench import run_benchmark

    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("benchmark", total=None)
        results = run_benchmark(repeats, progress=lambda stage: progress.update(task, description=stage))
    if as_json:
        print(json.dumps(results))
        return
    table = Table("stage", "ratio to JPEG decode", "ms")
    for stage, ms in results["ms"].items():
        table.add_row(stage, f"{results['ratio_to_baseline'][stage]}×", f"{ms}")
    console.print(table)
    console.print(
        f"video: {results['video_frames']} frames {results['frame']}, {results['video_frames_analysed']} analysed, "
        f"{results['video_frames_embedded']} embedded, CPU {results['video_decision_cpu_s']} s"
    )
