"""``pensioncert notify …``: what would be sent, send it, and the export file for the SMS platform."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pensioncert import messages

console = Console()
notify_app = typer.Typer(help="SMS notifications: plan, send, export, list (docs/notify.md).",
                         no_args_is_help=True)

TodayOption = Annotated[str | None, typer.Option("--today", help="The day, YYYY-MM-DD (default: the agency's today)")]


def _day(text: str | None) -> date:
    if text is None:
        from pensioncert.clock import agency_today

        return agency_today()
    try:
        return date.fromisoformat(text)
    except ValueError as bad:
        raise typer.BadParameter("YYYY-MM-DD", param_hint="--today") from bad


def _zh(code: str) -> str:
    try:
        return messages.text(code, "zh")
    except messages.UnknownMessage:
        return code


@notify_app.command("plan")
def plan(today: TodayOption = None,
         as_json: Annotated[bool, typer.Option("--json", help="One JSON list instead of a table")] = False) -> None:
    """What `notify send` would deliver on --today: new reminders and suspension notices, and the outbox."""
    from pensioncert.notify.planner import plan as make_plan
    from pensioncert.storage.db import get_database

    day = _day(today)
    with get_database().session() as session:
        planned = make_plan(session, day)
        session.rollback()  # the plan changes nothing
    if as_json:
        typer.echo(json.dumps([item.as_dict() for item in planned], ensure_ascii=False, indent=2))
        return
    table = Table("source", "name", "phone", "kind", "state", title=f"notifications due on {day}")
    table.add_column("text", overflow="fold", min_width=24)
    for item in planned:
        table.add_row(item.source, item.name, item.phone, _zh(f"notify.kind.{item.kind}"),
                      _zh(f"notify.state.{item.state}"), item.text)
    console.print(table)
    console.print(f"{len(planned)} message(s)")


@notify_app.command("send")
def send(today: TodayOption = None,
         reminders: Annotated[bool, typer.Option("--reminders/--no-reminders",
                                                 help="Queue the reminders due on --today first")] = True) -> None:
    """Queue the day's reminders, then deliver the outbox through the configured provider.

    Provider "export" (default) only marks messages ready for `notify export`; "http" posts them
    to PENSIONCERT_NOTIFY__GATEWAY_URL. Run it once a day (cron); a rerun queues nothing twice.
    """
    from pensioncert.logging_setup import configure_logging
    from pensioncert.notify.planner import queue_reminders
    from pensioncert.notify.providers import GatewayConfigError, provider_from_settings
    from pensioncert.notify.sender import send_pending
    from pensioncert.settings import get_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import audit

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        provider = provider_from_settings(settings.notify)
    except GatewayConfigError as bad:
        console.print(f"[red]{messages.text(bad.code, 'zh')} / {messages.text(bad.code, 'en')}[/]")
        raise typer.Exit(2) from bad
    database = get_database()
    day = _day(today)
    queued = 0
    if reminders:
        with database.session() as session:
            queued = queue_reminders(session, day)
    report = send_pending(database, provider, settings.notify)
    with database.session() as session:
        audit(session, actor="cli", role="system", action="notify.send",
              detail={"provider": provider.name, "reminders_queued": queued, **report.outcomes})
    console.print(f"reminders queued: {queued}; {provider.name}: {report.line()}")


@notify_app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv | xlsx")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout for CSV)")]
    = None,
) -> None:
    """The file for the agency's SMS platform (full numbers; audited): messages ready for export.

    With the export provider (the default), queued messages are marked ready first.
    """
    from pensioncert.notify.providers import ExportProvider
    from pensioncert.notify.sender import EXPORT_HEADER, send_pending, take_ready
    from pensioncert.registry import tables
    from pensioncert.settings import get_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import audit

    if fmt not in ("csv", "xlsx"):
        raise typer.BadParameter("csv or xlsx", param_hint="--format")
    if fmt == "xlsx" and output is None:
        raise typer.BadParameter("XLSX needs --output", param_hint="--output")
    settings = get_settings()
    database = get_database()
    if settings.notify.provider == "export":
        send_pending(database, ExportProvider(), settings.notify)
    with database.session() as session:
        rows = take_ready(session)
        body = tables.to_csv(EXPORT_HEADER, rows) if fmt == "csv" else tables.to_xlsx(EXPORT_HEADER, rows, "sms")
        if output is not None:
            output.write_bytes(body)  # inside the transaction: a failed write marks nothing exported
        audit(session, actor="cli", role="system", action="notify.export", detail={"format": fmt, "rows": len(rows)})
    if output is None:
        typer.echo(body.decode("utf-8-sig"), nl=False)
    else:
        console.print(f"{len(rows)} message(s) → {output}")


@notify_app.command("list")
def list_outbox(
    state: Annotated[str | None, typer.Option("--state", help="Only this state (pending, ready, sent, failed …)")]
    = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
) -> None:
    """The newest outbox rows, phone numbers masked."""
    from sqlalchemy import select

    from pensioncert.notify.rules import mask_phone
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import Notification, Retiree

    query = (select(Notification, Retiree).join(Retiree, Retiree.id == Notification.retiree_id)
             .order_by(Notification.id.desc()).limit(limit))
    if state:
        query = query.where(Notification.state == state)
    table = Table("id", "created", "name", "phone", "kind", "state", "tries", "error")
    with get_database().session() as session:
        for row, retiree in session.execute(query).tuples():
            table.add_row(str(row.id), row.created_at.strftime("%Y-%m-%d %H:%M"), retiree.name,
                          mask_phone(retiree.phone), _zh(f"notify.kind.{row.kind}"), _zh(f"notify.state.{row.state}"),
                          str(row.attempts), _zh(row.last_error) if row.last_error else "")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")
