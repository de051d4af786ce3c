"""Back-office commands: staff accounts and the suspension/resumption exports for the payment system."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pensioncert import messages
from pensioncert.clock import agency_today

console = Console()
staff_app = typer.Typer(help="Back-office staff accounts.", no_args_is_help=True)
export_app = typer.Typer(help="Exports for other systems.", no_args_is_help=True)
PASSWORD_ENV = "PENSIONCERT_STAFF_PASSWORD"


def _password(confirm: bool = True) -> str:
    """From $PENSIONCERT_STAFF_PASSWORD (scripts) or a hidden prompt: never a command-line argument."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=confirm))


@staff_app.command("add")
def staff_add(
    username: str,
    role: Annotated[str, typer.Option("--role", help="administrator | reviewer | operator | auditor")],
    display_name: Annotated[str, typer.Option("--name", help="Name shown in the back office")] = "",
) -> None:
    """Create a staff account (password from $PENSIONCERT_STAFF_PASSWORD or a prompt)."""
    from pensioncert.admin.auth import AccountError, create_staff
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import audit

    try:
        with get_database().session() as session:
            user = create_staff(session, username, _password(), role, display_name)
            audit(session, actor="cli", role="system", action="admin.staff_add",
                  detail={"username": user.username, "new_role": user.role})
    except AccountError as refused:
        console.print(f"[red]{messages.text(refused.code, 'zh')} / {messages.text(refused.code, 'en')}[/]")
        raise typer.Exit(1) from refused
    console.print(f"created {user.username} ({user.role})")


@staff_app.command("set-password")
def staff_set_password(username: str) -> None:
    """Reset a staff member's password and end their sessions."""
    from sqlalchemy import select

    from pensioncert.admin.auth import AccountError, revoke_all, set_password
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import StaffUser
    from pensioncert.storage.repository import audit

    with get_database().session() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username.lower()))
        if user is None:
            console.print(f"[red]no such staff member: {username}[/]")
            raise typer.Exit(1)
        try:
            set_password(user, _password())
        except AccountError as refused:
            console.print(f"[red]{messages.text(refused.code, 'en')}[/]")
            raise typer.Exit(1) from refused
        revoke_all(session, user)
        audit(session, actor="cli", role="system", action="admin.staff_password", detail={"username": user.username})
    console.print(f"password of {username} reset")


@staff_app.command("list")
def staff_list() -> None:
    """All staff accounts."""
    from sqlalchemy import select

    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import StaffUser

    table = Table("username", "name", "role", "active")
    with get_database().session() as session:
        for user in session.scalars(select(StaffUser).order_by(StaffUser.username)):
            table.add_row(user.username, user.display_name, user.role, "yes" if user.active else "no")
    console.print(table)


@export_app.command("suspensions")
def export_suspensions(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout for CSV)")]
    = None,
    fmt: Annotated[str, typer.Option("--format", help="csv | xlsx")] = "csv",
    resumptions: Annotated[bool, typer.Option("--resumptions", help="Resumptions with back pay instead")] = False,
) -> None:
    """The suspension list (full ID numbers) for the payment system; audited."""
    from pensioncert.admin import suspensions
    from pensioncert.registry import tables
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import audit

    if fmt not in ("csv", "xlsx"):
        raise typer.BadParameter("csv or xlsx", param_hint="--format")
    if fmt == "xlsx" and output is None:
        raise typer.BadParameter("XLSX needs --output", param_hint="--output")
    today = agency_today()
    protector = protector_from_settings()
    kind = "resumptions" if resumptions else "suspensions"
    with get_database().session() as session:
        if resumptions:
            header = suspensions.RESUMPTION_HEADER
            rows = suspensions.resumption_rows(
                suspensions.resumptions(session, suspensions.default_resumption_since(today)), protector)
        else:
            header = suspensions.SUSPENSION_HEADER
            rows = suspensions.suspension_rows(suspensions.suspended(session, today), protector)
        audit(session, actor="cli", role="system", action=f"admin.export_{kind}",
              detail={"format": fmt, "rows": len(rows)})
    body = tables.to_csv(header, rows) if fmt == "csv" else tables.to_xlsx(header, rows, kind)
    if output is None:
        typer.echo(body.decode("utf-8-sig"), nl=False)
    else:
        output.write_bytes(body)
        console.print(f"{len(rows)} rows → {output}")


def register(app: typer.Typer) -> None:
    app.add_typer(staff_app, name="staff")
    app.add_typer(export_app, name="export")
