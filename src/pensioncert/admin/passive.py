"""Passive certification: trusted evidence of life (hospital visit, bank counter …) certifies a retiree
without any action on their part; they are notified. Evidence types are configured by administrators.

An import is one transaction. A row certifies only if the evidence falls inside the retiree's
window; re-importing the same file certifies nobody twice (the retiree is then already certified).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pensioncert.admin.models import PassiveEvidenceType
from pensioncert.certification.service import eligibility_for
from pensioncert.domain.eligibility import DecisionCode, names_match
from pensioncert.errors import CodedError
from pensioncert.registry.importer import RowError, row_identity
from pensioncert.registry.tables import TableFileError, parse_day, read_table
from pensioncert.storage.crypto import Protector
from pensioncert.storage.repository import find_retiree, notify, record_certification

HEADER_ALIASES = {
    "身份证号码": "id_number", "公民身份号码": "id_number", "id_number": "id_number",
    "姓名": "name", "name": "name",
    "证据类型": "evidence_type", "evidence_type": "evidence_type",
    "证据日期": "evidence_date", "日期": "evidence_date", "evidence_date": "evidence_date",
    "来源机构": "source", "来源": "source", "source": "source",
    "备注": "notes", "notes": "notes",
}
REQUIRED = ("id_number", "evidence_type", "evidence_date")
CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


class PassiveError(CodedError, ValueError):
    """Refused; ``code`` and ``params`` make the message shown to the administrator."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code=code, **params)


@dataclass
class PassiveReport:
    rows: int = 0
    certified: int = 0
    already_certified: int = 0
    errors: list[RowError] = field(default_factory=list)


def evidence_types(session: Session, active_only: bool = False) -> list[PassiveEvidenceType]:
    query = select(PassiveEvidenceType).order_by(PassiveEvidenceType.id)
    if active_only:
        query = query.where(PassiveEvidenceType.active.is_(True))
    return list(session.scalars(query))


def add_evidence_type(session: Session, code: str, label_zh: str, label_en: str, max_age_days: int) -> None:
    code = code.strip().lower()
    if not code or len(code) > 32 or not set(code) <= CODE_CHARS:
        raise PassiveError("admin.passive.bad_type_code")
    if not label_zh.strip() or not label_en.strip() or not 1 <= max_age_days <= 366:
        raise PassiveError("admin.passive.bad_type")
    if session.scalar(select(PassiveEvidenceType).where(PassiveEvidenceType.code == code)) is not None:
        raise PassiveError("admin.passive.type_exists")
    session.add(PassiveEvidenceType(code=code, label_zh=label_zh.strip()[:64], label_en=label_en.strip()[:64],
                                    active=True, max_age_days=max_age_days))


def import_evidence(
    session: Session, protector: Protector, raw: bytes, filename: str, today: date, actor: str
) -> PassiveReport:
    """Certify every retiree the file proves alive inside their window; report every other row."""
    try:
        rows = read_table(raw, filename)
    except TableFileError as error:
        raise PassiveError(error.code, **error.params) from error
    if not rows:
        raise PassiveError("registry.empty_file")
    header = rows[0][1]
    columns = [HEADER_ALIASES.get(name.strip().lower(), HEADER_ALIASES.get(name.strip(), "")) for name in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise PassiveError("registry.missing_columns", columns=", ".join(missing))
    types = {t.code: t for t in evidence_types(session, active_only=True)}
    by_label = {label: t for t in types.values() for label in (t.label_zh, t.label_en.lower())}
    report = PassiveReport()
    for line, cells in rows[1:]:
        if not any(cells):
            continue
        report.rows += 1
        row = {column: value for column, value in zip(columns, cells, strict=False) if column}
        outcome = _apply_row(session, protector, line, row, types, by_label, today, actor)
        if isinstance(outcome, RowError):
            report.errors.append(outcome)
        elif outcome == "certified":
            report.certified += 1
        else:
            report.already_certified += 1
    return report


def _apply_row(
    session: Session, protector: Protector, line: int, row: dict[str, str],
    types: dict[str, PassiveEvidenceType], by_label: dict[str, PassiveEvidenceType], today: date, actor: str,
) -> RowError | str:
    info = row_identity(line, row, REQUIRED, "admin.passive.missing_value", today)
    if isinstance(info, RowError):
        return info
    kind = types.get(row["evidence_type"].strip().lower()) or by_label.get(row["evidence_type"].strip().lower()) \
        or by_label.get(row["evidence_type"].strip())
    if kind is None:
        return RowError(line, "admin.passive.unknown_type", "evidence_type", row["evidence_type"])
    try:
        day = parse_day(row["evidence_date"])
    except ValueError:
        return RowError(line, "admin.passive.bad_date", "evidence_date", row["evidence_date"])
    if day > today:
        return RowError(line, "admin.passive.future_date", "evidence_date", row["evidence_date"])
    if day < today - timedelta(days=kind.max_age_days):
        return RowError(line, "admin.passive.stale", "evidence_date", row["evidence_date"])
    retiree = find_retiree(session, protector, info.normalized)
    if retiree is None:
        return RowError(line, "decision.not_found", "id_number", info.normalized[:6] + "…")
    if row.get("name") and not names_match(row["name"], retiree.name):
        return RowError(line, "decision.name_mismatch", "name", row["name"])
    decision = eligibility_for(retiree, day)
    if decision.code is DecisionCode.ALREADY_CERTIFIED:
        return "already"
    if not decision.may_certify:
        return RowError(line, f"admin.passive.refused.{decision.code.value.removeprefix('decision.')}", "id_number",
                        retiree.id_number_masked)
    source = row.get("source", "").strip()[:200]
    record_certification(
        session, retiree, channel="passive", method="passive", result="passed", certified_on=day,
        evidence_type=kind.code, operator=actor,
        notes="; ".join(part for part in (source, row.get("notes", "").strip()[:1000]) if part),
    )
    notify(session, retiree.id, "admin.notice.passive_certified",
           {"certified_on": day.isoformat(), "evidence_type": kind.code})
    return "certified"
