"""The ``pensioncert`` command. Each concern registers its own sub-commands here."""

from __future__ import annotations

import typer

from pensioncert.cli import admin, attacks, core, faces, jobs, liveness, mandarin, notify, ocr, pilot, synth
from pensioncert.cli.groups import bench_app, eval_app

app = typer.Typer(help="pensioncert: offline pension proof-of-life certification", no_args_is_help=True)

# One module per concern, each exposing `register(app)`; heavy imports stay inside the commands.
for concern in (core, faces, synth, ocr, liveness, admin, jobs, attacks, mandarin, pilot, notify):
    concern.register(app)

app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")


if __name__ == "__main__":
    app()
