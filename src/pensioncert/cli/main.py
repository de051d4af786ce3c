"""The ``pensioncert`` command. Each concern registers its own sub-commands here."""

from __future__ import annotations

import importlib

import typer

from pensioncert.cli.groups import bench_app, eval_app

app = typer.Typer(help="pensioncert: offline pension proof-of-life certification", no_args_is_help=True)

# One module per concern, each exposing `register(app)`; a module not written yet is skipped.
CONCERN_MODULES = ("core", "faces", "synth", "ocr", "liveness", "admin", "jobs")

for _name in CONCERN_MODULES:
    try:
        _module = importlib.import_module(f"pensioncert.cli.{_name}")
    except ModuleNotFoundError as missing:
        if missing.name != f"pensioncert.cli.{_name}":
            raise
        continue
    _module.register(app)

app.add_typer(eval_app, name="eval")
app.add_typer(bench_app, name="bench")


if __name__ == "__main__":
    app()
