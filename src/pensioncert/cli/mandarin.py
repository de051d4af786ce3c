"""``pensioncert eval mandarin``: the Mandarin digit verifier on espeak-ng digits (docs/liveness.md)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pensioncert.cli.groups import eval_app

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Nothing of its own at the top level: ``eval mandarin`` registers on import."""


@eval_app.command("mandarin")
def eval_mandarin(
    split: Annotated[str, typer.Option(
        "--split", help="tuning (plain cmn voice: what the rule is chosen on) or report (held-out voices).")]
    = "report",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per-digit accuracy, confusion matrix and the k-of-4 rule's genuine and replay pass rates.

    On ``--split tuning`` the rule (margin, k) is chosen and printed next to the recognizer's
    settings; on ``--split report`` the recognizer's own margin and the analysis's k are measured.
    """
    from pensioncert.evaluation.mandarin import SPLITS, choose, measure, report
    from pensioncert.liveness.speech import PocketsphinxMandarinDigits
    from pensioncert.settings import get_settings

    if split not in SPLITS:
        raise typer.BadParameter(f"--split must be one of {', '.join(SPLITS)}")
    recognizer = PocketsphinxMandarinDigits()
    k = get_settings().liveness.mandarin_digit_min_verified or 3
    with console.status("synthesising and decoding digits") as status:
        samples = measure(split, recognizer, progress=lambda label: status.update(label))
    result = report(split, samples, recognizer.margin, k)
    out: dict[str, Any] = {"settings": {"margin": recognizer.margin, "k": k, "pad_s": recognizer.pad_s,
                                        "lexicon": {w: list(p) for w, p in recognizer.lexicon.items()}},
                           **result.as_dict()}
    if split == "tuning":
        out["chosen_on_tuning"] = choose(samples).as_dict()
    if as_json:
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return
    _print(out)


def _print(out: dict[str, Any]) -> None:
    view = Console()
    view.print(f"split {out['split']}: {out['samples']} digits in {out['conditions']} voice conditions; "
               f"one-best accuracy {100 * out['one_best_accuracy']:.1f} %")
    table = Table(title="confusion (rows: said, columns: heard)")
    for name in ["said", *out["confusion"]["rows_said_cols_heard"], "accuracy"]:
        table.add_column(name, justify="right")
    for d, row in enumerate(out["confusion"]["matrix"]):
        table.add_row(str(d), *map(str, row), f"{100 * out['per_digit_accuracy'][str(d)]:.0f} %")
    view.print(table)
    rules = Table(title=f"rule: margin {out['settings']['margin']}, k of 4 verified")
    for name in ("k", "digit verified", "other digit accepted", "genuine pass", "replay pass", "replay, all other"):
        rules.add_column(name, justify="right")
    for r in out["by_k"]:
        rules.add_row(str(r["k"]), *(f"{100 * r[key]:.2f} %" for key in (
            "digit_verified", "digit_other_accepted", "genuine_pass", "replay_pass", "replay_other_pass")))
    view.print(rules)
    if "chosen_on_tuning" in out:
        view.print(f"chosen on this split: {out['chosen_on_tuning']}")
    view.print("espeak-ng voices only: real elderly and dialect speakers must be measured with the pilot kit.")
