"""Registry import from CSV (UTF-8 or GBK) and XLSX.

Every row is validated; each bad row is reported with its line number and a
message code. A file is applied in a single transaction and all or nothing: one
rejected row and nothing changes (the report says which rows to fix), unless the
caller asks for ``partial`` on purpose, which applies the good rows. Re-importing
the same file changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from pensioncert.domain.eligibility import PensionType, RegistryStatus
from pensioncert.domain.idnumber import IdNumberInfo, InvalidIdNumber, parse_id_number
from pensioncert.registry.tables import TableFileError, parse_day, read_table
from pensioncert.storage.crypto import Protector
from pensioncert.storage.db import Database
from pensioncert.storage.repository import RetireeInput, upsert_retiree

# Accepted header names (agency exports use Chinese headers; English for tooling).
HEADER_ALIASES: dict[str, str] = {
    "姓名": "name", "name": "name",
    "身份证号码": "id_number", "公民身份号码": "id_number", "id_number": "id_number",
    "养老保险类型": "pension_type", "险种": "pension_type", "pension_type": "pension_type",
    "本地退休": "retired_locally", "是否本地退休": "retired_locally", "retired_locally": "retired_locally",
    "状态": "status", "人员状态": "status", "status": "status",
    "首次发放日期": "first_payment", "first_payment": "first_payment",
    "上次认证日期": "last_certified", "last_certified": "last_certified",
    "区": "district", "所属区": "district", "district": "district",
    "电话": "phone", "联系电话": "phone", "phone": "phone",
}
REQUIRED = ("name", "id_number", "pension_type", "first_payment")
PENSION_TYPE_ALIASES = {
    "企业职工": PensionType.EMPLOYEE, "职工": PensionType.EMPLOYEE, "employee": PensionType.EMPLOYEE,
    "城乡居民": PensionType.RESIDENT, "居民": PensionType.RESIDENT, "resident": PensionType.RESIDENT,
    "机关事业": PensionType.OTHER, "other": PensionType.OTHER,
}
STATUS_ALIASES = {
    "正常": RegistryStatus.NORMAL, "normal": RegistryStatus.NORMAL, "": RegistryStatus.NORMAL,
    "信息异常": RegistryStatus.INFO_ABNORMAL, "info_abnormal": RegistryStatus.INFO_ABNORMAL,
    "暂停": RegistryStatus.SUSPENDED, "suspended": RegistryStatus.SUSPENDED,
    "终止": RegistryStatus.TERMINATED, "terminated": RegistryStatus.TERMINATED,
}
TRUE_WORDS = {"是", "y", "yes", "true", "1", "本地"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "异地"}


RegistryFileError = TableFileError  # the file as a whole cannot be read


@dataclass(frozen=True)
class RowError:
    line: int
    code: str
    column: str = ""
    value: str = ""


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    # False when rejected rows stopped the whole file (nothing was written).
    committed: bool = True

    @property
    def applied(self) -> int:
        return self.created + self.updated


def row_identity(
    line: int, record: dict[str, str], required: tuple[str, ...], missing_code: str, today: date
) -> IdNumberInfo | RowError:
    """The first checks of any row naming a person: required cells present, a valid ID number."""
    for column in required:
        if not record.get(column):
            return RowError(line, missing_code, column)
    try:
        return parse_id_number(record["id_number"], today=today)
    except InvalidIdNumber as invalid:
        return RowError(line, invalid.code, "id_number", record["id_number"])


def _validate(line: int, record: dict[str, str], today: date) -> RetireeInput | RowError:
    info = row_identity(line, record, REQUIRED, "registry.missing_value", today)
    if isinstance(info, RowError):
        return info
    pension_type = PENSION_TYPE_ALIASES.get(record["pension_type"].lower())
    if pension_type is None:
        return RowError(line, "registry.bad_pension_type", "pension_type", record["pension_type"])
    status = STATUS_ALIASES.get(record.get("status", "").lower())
    if status is None:
        return RowError(line, "registry.bad_status", "status", record["status"])
    local_text = record.get("retired_locally", "是").lower() or "是"
    if local_text not in TRUE_WORDS | FALSE_WORDS:
        return RowError(line, "registry.bad_boolean", "retired_locally", record["retired_locally"])
    dates: dict[str, date | None] = {}
    for column in ("first_payment", "last_certified"):
        text = record.get(column, "")
        if not text:
            dates[column] = None
            continue
        try:
            dates[column] = parse_day(text)
        except ValueError:
            return RowError(line, "registry.bad_date", column, text)
        if dates[column] > today:  # type: ignore[operator]
            return RowError(line, "registry.future_date", column, text)
    first_payment = dates["first_payment"]
    assert first_payment is not None  # required above
    return RetireeInput(
        id_number=info.normalized,
        name="".join(record["name"].split()),
        sex=info.sex,
        birth_date=info.birth_date,
        region_code=info.region_code,
        pension_type=pension_type.value,
        retired_locally=local_text in TRUE_WORDS,
        status=status.value,
        first_payment=first_payment,
        last_certified=dates["last_certified"],
        district=record.get("district", ""),
        phone=record.get("phone", ""),
    )


def parse_registry(raw: bytes, filename: str, today: date) -> tuple[list[RetireeInput], list[RowError], int]:
    """Validate a registry file: the good rows, the row errors and the number of data rows."""
    rows = iter(read_table(raw, filename))
    try:
        _, header = next(rows)
    except StopIteration as empty:
        raise RegistryFileError("registry.empty_file") from empty
    columns = [HEADER_ALIASES.get(name.strip().lower(), HEADER_ALIASES.get(name.strip(), "")) for name in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise RegistryFileError("registry.missing_columns", columns=", ".join(missing))
    good: list[RetireeInput] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    count = 0
    for line, cells in rows:
        if not any(cells):
            continue
        count += 1
        record = {column: value for column, value in zip(columns, cells, strict=False) if column}
        outcome = _validate(line, record, today)
        if isinstance(outcome, RowError):
            errors.append(outcome)
        elif outcome.id_number in seen:
            errors.append(RowError(line, "registry.duplicate_row", "id_number", f"line {seen[outcome.id_number]}"))
        else:
            seen[outcome.id_number] = line
            good.append(outcome)
    return good, errors, count


def apply_registry(session: Session, protector: Protector, raw: bytes, filename: str, today: date, *,
                   partial: bool = False) -> ImportReport:
    """Validate a registry file and upsert its rows in ``session`` (the caller's transaction): every row or,
    if any is rejected, none (``committed`` False) — unless ``partial``, which upserts the good rows."""
    good, errors, count = parse_registry(raw, filename, today)
    report = ImportReport(rows=count, errors=errors)
    if errors and not partial:
        report.committed = False
        return report
    for row in good:
        outcome = upsert_retiree(session, protector, row)
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def import_registry(
    database: Database, protector: Protector, raw: bytes, filename: str, today: date, *, partial: bool = False
) -> ImportReport:
    """Import a registry file in one transaction: all rows, or none if any is rejected (unless ``partial``)."""
    with database.session() as session:
        return apply_registry(session, protector, raw, filename, today, partial=partial)
