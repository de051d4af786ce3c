"""Command groups shared by several concerns: ``pensioncert eval …`` and ``pensioncert bench …``.

A concern's CLI module adds its own command to these groups, e.g.
``@eval_app.command("faces")`` in ``cli/faces.py``.
"""

from __future__ import annotations

import typer

eval_app = typer.Typer(help="Measure accuracy on a data set and print the figures.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed (ratios to a baseline timed in the same run).", no_args_is_help=True)
