"""Scale-out commands: ``pensioncert worker`` (a verification worker) and ``pensioncert loadtest``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()

READY_LINE = "pensioncert worker ready"


def worker(
    burst: Annotated[bool, typer.Option("--burst", help="Exit when the queue is empty.")] = False,
    fork: Annotated[bool, typer.Option("--fork", help="Fork a process per job (RQ's classic Worker).")] = False,
    preload: Annotated[bool, typer.Option("--preload/--no-preload", help="Load the models before taking jobs.")]
    = True,
    processes: Annotated[int, typer.Option("--processes", min=1, max=64, help="Worker processes forked after "
                                           "loading the models once (one per core; docs/scaling.md).")] = 1,
) -> None:
    """Run verification workers on the Redis queue (settings: PENSIONCERT_JOBS__REDIS_URL, database URL)."""
    from pensioncert.cli.core import require_production_keys
    from pensioncert.jobs.redis_queue import run_worker, run_worker_pool

    require_production_keys()
    from pensioncert.logging_setup import configure_logging
    from pensioncert.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if settings.jobs.backend != "redis":
        console.print("[yellow]jobs.backend is not 'redis': this worker serves the Redis queue anyway[/]")

    def ready() -> None:
        print(READY_LINE, flush=True)

    if processes > 1:
        if fork or not preload:
            raise typer.BadParameter("--processes preloads the models and forks once: no --fork, no --no-preload")
        run_worker_pool(settings, processes=processes, burst=burst, on_ready=ready)
        return
    run_worker(settings, burst=burst, fork=fork, preload=preload, on_ready=ready)


def loadtest(
    workers: Annotated[int, typer.Option("--workers", min=1, max=16, help="Worker processes to start.")] = 1,
    duration: Annotated[float, typer.Option("--duration", min=1, help="Seconds of measured load.")] = 60,
    users: Annotated[int, typer.Option("--users", min=0, help="Concurrent phone sessions (0: 3 per worker).")]
    = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON only.")] = False,
    fork: Annotated[bool, typer.Option("--fork", help="Fork-per-job workers instead of the preloaded default.")]
    = False,
    pool: Annotated[bool, typer.Option("--pool", help="One `worker --processes N` (models loaded once, then "
                                       "forked) instead of N worker commands.")] = False,
    chart: Annotated[Path | None, typer.Option("--chart", help="Also write a PNG latency/throughput chart.")]
    = None,
    work_dir: Annotated[Path | None, typer.Option("--work-dir", help="Where the run logs go.")] = None,
    clips: Annotated[int, typer.Option("--clips", min=1, max=20, help="Action pairs rendered (20 answers every "
                                       "challenge at once; fewer: users ask again until one matches).")] = 20,
) -> None:
    """Start PostgreSQL-backed API + N workers + Redis queue on loopback, drive full phone flows, report figures."""
    from pensioncert.loadtest.harness import LoadTestConfig, run_loadtest
    from pensioncert.loadtest.report import print_table, write_chart

    config = LoadTestConfig(workers=workers, duration=duration, users=users or 3 * workers, fork=fork, pool=pool,
                            work_dir=work_dir or Path("var/loadtest"), quiet=as_json, clips=clips)
    result = run_loadtest(config)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        print_table(result, console)
    if chart is not None:
        write_chart(result, chart)
        if not as_json:
            console.print(f"chart: {chart}")


def purge_media() -> None:
    """Delete biometric media past security.media_retention_days (the API also does this periodically)."""
    from pensioncert.jobs.retention import purge_now
    from pensioncert.settings import get_settings

    purged = purge_now()
    console.print(f"{purged} media item(s) older than {get_settings().security.media_retention_days} days deleted")


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("loadtest")(loadtest)
    app.command("purge-media")(purge_media)
