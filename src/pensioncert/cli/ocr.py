"""``pensioncert ocr idcard``, ``pensioncert eval ocr`` and ``pensioncert bench ocr``."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pensioncert.cli.groups import bench_app, eval_app
from pensioncert.messages import text

console = Console()

FIELD_LABELS = {"name": "姓名 name", "sex": "性别 sex", "ethnicity": "民族 ethnicity", "birth_date": "出生 birth date",
                "address": "住址 address", "id_number": "公民身份号码 ID number", "authority": "签发机关 authority",
                "valid_from": "有效期自 valid from", "valid_until": "有效期至 valid until"}  # fmt: skip


def _dump(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def idcard(
    image: Annotated[Path, typer.Argument(help="Photo of one side of a resident ID card (JPG/PNG).")],
    side: Annotated[str | None, typer.Option(help="Expected side: front (photo) or back (emblem).")] = None,
    portrait: Annotated[Path | None, typer.Option(help="Write the portrait crop (front) to this file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    lang: Annotated[str, typer.Option(help="Language of problem messages (zh-CN or en).")] = "zh-CN",
) -> None:
    """Read one side of an ID card offline. Exit status 1 when problems were found."""
    import cv2

    from pensioncert.documents import read_id_card

    if side not in (None, "front", "back"):
        raise typer.BadParameter("--side must be front or back")
    if not image.is_file():
        raise typer.BadParameter(f"{image} is not a file")
    reading = read_id_card(image.read_bytes(), side)  # type: ignore[arg-type]
    if portrait is not None and reading.portrait is not None:
        cv2.imwrite(str(portrait), reading.portrait)
    if as_json:
        data = reading.to_dict()
        data["messages"] = {code: text(code, lang) for code in reading.problems}
        _dump(data)
    else:
        table = Table(title=f"{image.name}: {reading.side or '?'} ({reading.seconds * 1000:.0f} ms)")
        table.add_column("field")
        table.add_column("value")
        for key, value in reading.fields.items():
            table.add_row(FIELD_LABELS.get(key, key), value)
        console.print(table)
        for code in reading.problems:
            console.print(f"[yellow]{code}[/]: {text(code, lang)}")
        if portrait is not None and reading.portrait is not None:
            console.print(f"portrait written to {portrait}")
    raise typer.Exit(1 if reading.problems else 0)


def register(app: typer.Typer) -> None:
    """Add the ``ocr`` command group (``eval ocr`` / ``bench ocr`` register on import)."""
    ocr_app = typer.Typer(help="Read identity documents offline.", no_args_is_help=True)
    ocr_app.command("idcard")(idcard)
    app.add_typer(ocr_app, name="ocr")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=Console(stderr=True))  # fmt: skip


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


@eval_app.command("ocr")
def eval_ocr(
    clean: Annotated[int, typer.Option(help="Clean (flat, scanned-like) sides to read.")] = 100,
    distorted: Annotated[int, typer.Option(help="Phone-photo-like distorted sides to read.")] = 100,
    problems: Annotated[int, typer.Option(help="Photos per problem kind (blur, glare, cut off...).")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the generated set.")] = 2024,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    show_failures: Annotated[bool, typer.Option("--failures", help="List misread sides.")] = False,
) -> None:
    """Per-field exact-match accuracy and time per side on generated ID cards."""
    from pensioncert.documents.evaluate import BACK_FIELDS, CONDITIONS, FRONT_FIELDS, evaluate

    total = clean + distorted + problems * 5
    with _progress() as bar:
        task = bar.add_task("reading generated ID cards", total=total)
        result = evaluate(clean, distorted, problems, seed, progress=lambda: bar.advance(task))
    data = result.to_dict()
    if as_json:
        _dump(data)
        return
    table = Table(title=f"ID card OCR, exact match per field (seed {seed})")
    table.add_column("field")
    for condition in CONDITIONS:
        table.add_column(f"{condition} (n={data['sides'][condition]})", justify="right")
    for name in FRONT_FIELDS + BACK_FIELDS:
        table.add_row(name, *(_pct(data["field_accuracy"][c][name]) for c in CONDITIONS))
    table.add_row("side detected", *(_pct(data["side_accuracy"][c]) for c in CONDITIONS))
    table.add_row("sides with a problem code", *(_pct(data["flagged_rate"][c]) for c in CONDITIONS))
    console.print(table)
    console.print(f"ID numbers returned with a failing checksum: {data['bad_checksum_returned']}; "
                  f"valid-looking but wrong: {data['wrong_id_returned']}")  # fmt: skip
    ms = data["ms_per_side"]
    if ms["median"] is not None:
        console.print(f"time per side: median {ms['median']:.0f} ms, p95 {ms['p95']:.0f} ms "
                      f"({ms['ratio_to_decode']:.0f}x a JPEG decode of {ms['decode_median']:.1f} ms)")  # fmt: skip
    if data["problem_detection"]:
        det = Table(title="problem photos: expected code reported")
        det.add_column("problem")
        det.add_column("detected", justify="right")
        for kind, counts in data["problem_detection"].items():
            det.add_row(f"ocr.{kind}", f"{counts['detected']}/{counts['total']}")
        console.print(det)
    if show_failures:
        for failure in data["failures"]:
            console.print(json.dumps(failure, ensure_ascii=False))


@bench_app.command("ocr")
def bench_ocr(
    sides: Annotated[int, typer.Option(help="Generated sides to time (half distorted).")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the generated set.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Time per card side, as a ratio to decoding the same JPEG (timed in the same run)."""
    import cv2
    import numpy as np

    from pensioncert.documents import engine
    from pensioncert.documents.cardgen import generate_card
    from pensioncert.documents.reader import read_id_card

    started = time.perf_counter()
    engine.engine()
    load_ms = (time.perf_counter() - started) * 1000
    cards = [generate_card(seed * 1000 + i, "front" if i % 2 == 0 else "back", distorted=i % 4 >= 2)
             for i in range(sides)]  # fmt: skip
    read_id_card(cards[0].jpeg())  # warm-up: first inference allocates
    timings: dict[str, list[float]] = {"front": [], "back": []}
    cpu: dict[str, list[float]] = {"front": [], "back": []}
    decode: list[float] = []
    with _progress() as bar:
        task = bar.add_task("timing", total=len(cards))
        for card in cards:
            jpeg = card.jpeg()
            t0 = time.perf_counter()
            cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            t1, c1 = time.perf_counter(), time.process_time()
            read_id_card(jpeg)
            t2, c2 = time.perf_counter(), time.process_time()
            decode.append(t1 - t0)
            timings[card.side].append(t2 - t1)
            cpu[card.side].append(c2 - c1)  # all threads: what the side costs a shared machine
            bar.advance(task)
    base = statistics.median(decode)
    per_side = {s: {"median_ms": statistics.median(t) * 1000, "max_ms": max(t) * 1000,
                    "cpu_median_ms": statistics.median(cpu[s]) * 1000,
                    "ratio_to_decode": statistics.median(t) / base} for s, t in timings.items() if t}  # fmt: skip
    result: dict[str, Any] = {"model_load_ms": load_ms, "decode_ms": base * 1000, "per_side": per_side,
                              "load_average": os.getloadavg()[0], "cpus": os.cpu_count()}
    if as_json:
        _dump(result)
        return
    table = Table(title=f"ID card OCR speed ({sides} sides; baseline: JPEG decode {base * 1000:.1f} ms)")
    for column in ("side", "median ms", "max ms", "x decode", "CPU ms (all threads)"):
        table.add_column(column, justify="right")
    for s, r in per_side.items():
        table.add_row(s, f"{r['median_ms']:.0f}", f"{r['max_ms']:.0f}", f"{r['ratio_to_decode']:.0f}",
                      f"{r['cpu_median_ms']:.0f}")  # fmt: skip
    console.print(table)
    console.print(f"load average while timing: {result['load_average']:.1f} on {result['cpus']} CPUs")
    console.print(f"model load (once per process): {load_ms:.0f} ms")
