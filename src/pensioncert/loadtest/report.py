"""Load-test output: a table for people, a PNG chart for the docs."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from pensioncert.loadtest.harness import LoadTestResult


def print_table(result: LoadTestResult, console: Console) -> None:
    table = Table(title=f"pensioncert load test: {result.workers} worker(s), {result.users} users, "
                        f"{result.duration_s:.0f} s{' (fork per job)' if result.fork else ''}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("certifications decided", str(result.certifications)),
        ("certifications / s", f"{result.certifications_per_s:.3f}"),
        ("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(result.outcomes.items())) or "-"),
        ("whole flow p50 / p95 (ms)", f"{result.p50_ms:.0f} / {result.p95_ms:.0f}"),
        ("upload → decided p50 / p95 (ms)", f"{result.verify_p50_ms:.0f} / {result.verify_p95_ms:.0f}"),
        ("API request p50 / p95 (ms)", f"{result.api_p50_ms:.1f} / {result.api_p95_ms:.1f}"),
        ("errors", str(result.errors)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    for worker in result.per_worker:
        table.add_row(f"worker {worker['worker']}",
                      f"{worker['jobs']} jobs, {worker['jobs_per_s']:.3f}/s, run p50 {worker['run_p50_ms']} ms, "
                      f"p95 {worker['run_p95_ms']} ms")
    console.print(table)
    for sample in result.error_samples:
        console.print(f"[red]error[/] {sample}")


def write_chart(result: LoadTestResult, path: Path) -> None:
    """Latency of each certification against when it finished, and the cumulative count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, left = plt.subplots(figsize=(8, 4.5), dpi=100)
    finished = [flow.finished for flow in result.flows]
    left.scatter(finished, [(flow.finished - flow.started) for flow in result.flows], s=12, label="flow latency (s)")
    left.set_xlabel("seconds since start")
    left.set_ylabel("whole-flow latency (s)")
    right = left.twinx()
    right.step(finished, range(1, len(finished) + 1), where="post", color="tab:orange", label="certifications")
    right.set_ylabel("certifications decided")
    left.axvline(result.duration_s, color="grey", linestyle=":")
    left.set_title(f"{result.workers} worker(s): {result.certifications_per_s:.3f} cert/s, "
                   f"p50 {result.p50_ms / 1000:.1f} s, p95 {result.p95_ms / 1000:.1f} s")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
