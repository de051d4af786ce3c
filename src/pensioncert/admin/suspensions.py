"""The suspension list for the payment system, and the resumptions with their back-pay months.

The payment system stops paying the retirees on the suspension list; a later certification (any
channel) resumes payment from the next month and back-pays the suspended months, which
``record_certification`` computes and the resumption list reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pensioncert.certification.rules import cycle_rules_for
from pensioncert.domain.calendar import first_of_next_month, local_date
from pensioncert.domain.cycle import cycle_status
from pensioncert.domain.eligibility import RegistryStatus, SuspensionReason, resumption_on_certification
from pensioncert.settings import get_settings
from pensioncert.storage.crypto import Protector
from pensioncert.storage.models import CertificationRecord, Retiree

SUSPENSION_HEADER = ("姓名", "身份证号码", "所属区", "养老保险类型", "应认证日期", "暂停发放起始日期", "暂停原因",
                     "若今日认证可补发月数")
RESUMPTION_HEADER = ("姓名", "身份证号码", "所属区", "养老保险类型", "认证日期", "认证渠道", "恢复发放起始日期",
                     "补发月数")


@dataclass(frozen=True)
class SuspendedRow:
    retiree: Retiree
    due_date: date
    suspended_from: date
    reason: str
    back_pay_if_today: int


def suspended(session: Session, today: date) -> list[SuspendedRow]:
    """Retirees whose payment is suspended, by suspension date."""
    settings = get_settings().cycle
    rows = []
    for retiree in session.scalars(select(Retiree).where(Retiree.status == RegistryStatus.SUSPENDED)):
        status = cycle_status(today, cycle_rules_for(retiree.region_code, settings), retiree.last_certified,
                              retiree.first_payment)
        since = retiree.suspended_from or status.suspended_from or today
        reason = SuspensionReason(retiree.suspension_reason or SuspensionReason.OVERDUE)
        back_pay = resumption_on_certification(since, today, reason).back_pay_months
        rows.append(SuspendedRow(retiree, status.due_date, since, reason.value, back_pay))
    return sorted(rows, key=lambda row: (row.suspended_from, row.retiree.id))


def resumptions(session: Session, since: date) -> list[tuple[Retiree, CertificationRecord]]:
    """Certifications since ``since`` that resumed a suspended pension with back pay."""
    start = datetime.combine(since, time.min)
    query = (select(CertificationRecord, Retiree).join(Retiree, Retiree.id == CertificationRecord.retiree_id)
             .where(CertificationRecord.result == "passed", CertificationRecord.back_pay_months > 0,
                    CertificationRecord.created_at >= start)
             .order_by(CertificationRecord.id.desc()))
    return [(retiree, record) for record, retiree in session.execute(query).tuples()]


def suspension_rows(rows: list[SuspendedRow], protector: Protector) -> list[list[object]]:
    """Spreadsheet rows with full ID numbers: the payment system matches on them."""
    return [[row.retiree.name, protector.decrypt_text(row.retiree.id_number_encrypted, "id_number"),
             row.retiree.district, row.retiree.pension_type, row.due_date, row.suspended_from, row.reason,
             row.back_pay_if_today] for row in rows]


def resumption_rows(pairs: list[tuple[Retiree, CertificationRecord]], protector: Protector) -> list[list[object]]:
    out: list[list[object]] = []
    for retiree, record in pairs:
        certified = record.certified_on or local_date(record.created_at, get_settings().cycle.time_zone)
        out.append([retiree.name, protector.decrypt_text(retiree.id_number_encrypted, "id_number"), retiree.district,
                    retiree.pension_type, certified, record.channel, first_of_next_month(certified),
                    record.back_pay_months])
    return out


def default_resumption_since(today: date) -> date:
    return today - timedelta(days=31)
