"""Core commands: database, registry, status, ID numbers, windows, serving."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pensioncert import messages
from pensioncert.clock import agency_today
from pensioncert.domain.cycle import CycleRules, cycle_status
from pensioncert.domain.eligibility import window_params
from pensioncert.domain.idnumber import InvalidIdNumber, parse_id_number

console = Console()
id_app = typer.Typer(help="Resident ID numbers.", no_args_is_help=True)


def _print_json(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))


@id_app.command("check")
def id_check(
    id_number: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Validate an ID number (exit 0 valid, 1 invalid)."""
    today = agency_today()
    payload: dict[str, Any] = {"valid": False, "normalized": None, "birth_date": None, "sex": None,
                               "region_code": None, "error": None}
    try:
        info = parse_id_number(id_number, today=today)
    except InvalidIdNumber as invalid:
        payload["error"] = invalid.code
        payload["message_zh"] = messages.text(invalid.code, "zh")
        payload["message_en"] = messages.text(invalid.code, "en")
    else:
        payload.update(valid=True, normalized=info.normalized, birth_date=info.birth_date.isoformat(),
                       sex=info.sex, region_code=info.region_code)
    if as_json:
        _print_json(payload)
    elif payload["valid"]:
        console.print(f"[green]valid[/] {payload['normalized']}  born {payload['birth_date']}  "
                      f"{payload['sex']}  region {payload['region_code']}")
    else:
        console.print(f"[red]invalid[/] {payload['error']}: {payload['message_zh']} / {payload['message_en']}")
    raise typer.Exit(0 if payload["valid"] else 1)


def _parse_cli_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as bad:
        raise typer.BadParameter(f"{value!r} is not a date YYYY-MM-DD", param_hint=option) from bad


_WINDOW_MESSAGE = {
    "open": "decision.proceed",
    "overdue": "decision.proceed_overdue",
    "not_yet": "decision.not_yet",
    "already_certified": "decision.already_certified",
}


def window(
    last_certified: Annotated[str | None, typer.Option("--last-certified", help="YYYY-MM-DD")] = None,
    first_payment: Annotated[str | None, typer.Option("--first-payment", help="YYYY-MM-DD (never certified)")] = None,
    today: Annotated[str | None, typer.Option("--today", help="YYYY-MM-DD (default: today)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The certification window on a given day."""
    from pensioncert.settings import get_settings

    if last_certified is None and first_payment is None:
        raise typer.BadParameter("give --last-certified or --first-payment")
    cycle = get_settings().cycle
    rules = CycleRules(cycle_months=cycle.cycle_months, advance_window_months=cycle.advance_window_months)
    status = cycle_status(
        _parse_cli_date(today, "--today") if today else agency_today(),
        rules,
        last_certified=_parse_cli_date(last_certified, "--last-certified") if last_certified else None,
        first_payment=_parse_cli_date(first_payment, "--first-payment") if first_payment else None,
    )
    code = _WINDOW_MESSAGE[status.state.value]
    params = window_params(status)
    payload = {
        "state": status.state.value,
        "window_start": status.window_start.isoformat(),
        "window_end": status.window_end.isoformat(),
        "due_date": status.due_date.isoformat(),
        "suspended_from": status.suspended_from.isoformat() if status.suspended_from else None,
        "message_zh": messages.text(code, "zh", **params),
        "message_en": messages.text(code, "en", **params),
    }
    if as_json:
        _print_json(payload)
    else:
        console.print(f"[bold]{payload['state']}[/]  window {payload['window_start']} → {payload['window_end']}")
        console.print(payload["message_zh"])
        console.print(payload["message_en"])


def init() -> None:
    """Create or migrate the database named by the settings."""
    from pensioncert.storage.db import get_database

    database = get_database()
    console.print(f"database ready: {database.engine.url.render_as_string(hide_password=True)}")


def import_registry(
    file: Path,
    partial: Annotated[bool, typer.Option("--partial", help="Import the good rows even if some are rejected.")]
    = False,
) -> None:
    """Import retirees from a CSV or XLSX registry file: all rows or, if any is rejected, none (exit 1)."""
    from pensioncert.registry.importer import RegistryFileError
    from pensioncert.registry.importer import import_registry as run_import
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database

    if not file.is_file():
        console.print(f"[red]no such file: {file}[/]")
        raise typer.Exit(2)
    try:
        report = run_import(get_database(), protector_from_settings(), file.read_bytes(), file.name, agency_today(),
                            partial=partial)
    except RegistryFileError as error:
        console.print(f"[red]{messages.text(error.code, 'zh', **error.params)}[/] / "
                      f"{messages.text(error.code, 'en', **error.params)}")
        raise typer.Exit(1) from error
    console.print(f"rows {report.rows}: created {report.created}, updated {report.updated}, "
                  f"unchanged {report.unchanged}, rejected {len(report.errors)}")
    for row_error in report.errors:
        params = {"line": row_error.line, "column": row_error.column, "value": row_error.value}
        text = messages.text(row_error.code, "en", **params) if row_error.code.startswith("registry.") else (
            f"Line {row_error.line}: {messages.text(row_error.code, 'en')} ({row_error.value})")
        console.print(f"  [yellow]{text}[/]")
    if not report.committed:
        console.print(f"[red]nothing imported: {len(report.errors)} row(s) rejected; fix them, or import the "
                      "good rows with --partial[/]")
    raise typer.Exit(0 if report.committed else 1)


def status(id_number: str, language: Annotated[str, typer.Option("--lang")] = "zh-CN") -> None:
    """A retiree's eligibility decision and certification history."""
    from pensioncert.certification.service import eligibility_for
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import find_retiree, history

    try:
        info = parse_id_number(id_number, today=agency_today())
    except InvalidIdNumber as invalid:
        console.print(f"[red]{messages.text(invalid.code, language)}[/]")
        raise typer.Exit(1) from invalid
    with get_database().session() as session:
        retiree = find_retiree(session, protector_from_settings(), info.normalized)
        decision = eligibility_for(retiree, agency_today())
        console.print(f"[bold]{decision.code}[/]  {messages.text(decision.code, language, **decision.params)}")
        if retiree is None:
            raise typer.Exit(1)
        table = Table("date", "channel", "method", "result", "reasons")
        for record in history(session, retiree.id):
            table.add_row(record.created_at.strftime("%Y-%m-%d %H:%M"), record.channel, record.method,
                          record.result, ", ".join(record.reasons))
        console.print(f"{retiree.name} {retiree.id_number_masked} status={retiree.status}")
        console.print(table)


TLS_HELP = "Serve HTTPS with a self-signed certificate (phones allow the camera only on HTTPS or localhost)."


keys_app = typer.Typer(help="Keys of a deployment.", no_args_is_help=True)


@keys_app.command("generate")
def keys_generate() -> None:
    """Print fresh random keys as PENSIONCERT_SECURITY__* lines (append them to the service's .env)."""
    from pensioncert.keys import generate_env_lines

    for line in generate_env_lines():
        typer.echo(line)


def require_production_keys() -> None:
    """Exit 2, naming each variable, when the keys are unset, the development ones, or malformed."""
    from pensioncert.keys import key_problems
    from pensioncert.settings import get_settings

    problems = key_problems(get_settings().security)
    for problem in problems:
        typer.echo(f"refusing to start: {problem}", err=True)
    if problems:
        raise typer.Exit(2)


def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    tls: Annotated[bool, typer.Option("--tls", help=TLS_HELP)] = False,
) -> None:
    """Serve the API, the phone pages and the back office (refuses the development keys)."""
    require_production_keys()
    _serve(host, port, tls)


def _serve(host: str, port: int, tls: bool) -> None:
    import uvicorn

    from pensioncert.logging_setup import configure_logging
    from pensioncert.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    certfile: str | None = None
    keyfile: str | None = None
    if tls:
        from pensioncert.tls import self_signed_certificate

        cert, key = self_signed_certificate(settings.data_dir / "tls")
        certfile, keyfile = str(cert), str(key)
    scheme = "https" if tls else "http"
    console.print(f"pensioncert on {scheme}://{host}:{port}/  (data: {settings.database_url})")
    # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default; only the configured proxies count.
    proxies = settings.security.trusted_proxies
    uvicorn.run("pensioncert.api.app:create_app", factory=True, host=host, port=port, log_config=None,
                ssl_certfile=certfile, ssl_keyfile=keyfile, proxy_headers=bool(proxies),
                forwarded_allow_ips=",".join(proxies) if proxies else None)


def demo(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    data_dir: Annotated[Path, typer.Option("--data-dir")] = Path("var/demo"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Only create the demo data.")] = False,
    card_portrait: Annotated[
        Path | None, typer.Option("--card-portrait", help="Your photo, printed on the demo ID cards.")
    ] = None,
    tls: Annotated[bool, typer.Option("--tls", help=TLS_HELP)] = False,
) -> None:
    """Create a demo database with retirees in every state, then serve it."""
    os.environ.setdefault("PENSIONCERT_DATA_DIR", str(data_dir))
    # Demo retirees have no registry photo: the first certification enrols the face and goes to
    # manual review (never a silent pass), so the flows can be tried with any webcam.
    os.environ.setdefault("PENSIONCERT_FLOW__ENROLL_REFERENCE_ON_FIRST_CERTIFICATION", "true")
    from pensioncert.settings import get_settings

    get_settings.cache_clear()
    from pensioncert.demo.setup import load_demo, write_demo_cards

    summary = load_demo(agency_today())
    cards = write_demo_cards(data_dir / "demo-cards", agency_today(), card_portrait)
    table = Table("name", "ID number", "what the demo shows", title="Demo retirees")
    for name, number, case in summary:
        table.add_row(name, number, case)
    console.print(table)
    console.print(f"ID-card photos of the demo retirees for the WeChat / city-app scans: {cards[0].parent}/")
    console.print("Back office: /admin/  (reviewer / demo-reviewer-pass; see docs/admin.md)")
    if not no_serve:
        _serve(host, port, tls)  # the demo's own data: the development keys are fine here


def register(app: typer.Typer) -> None:
    app.add_typer(id_app, name="id")
    app.add_typer(keys_app, name="keys")
    app.command("window")(window)
    app.command("init")(init)
    app.command("import-registry")(import_registry)
    app.command("status")(status)
    app.command("serve")(serve)
    app.command("demo")(demo)
