"""Reading and writing the spreadsheets the agency exchanges with other systems (CSV UTF-8/GBK, XLSX).

One reader serves the registry import and the passive-evidence import; one writer the exports.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pensioncert.errors import CodedError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TableFileError(CodedError, ValueError):
    """A table file that cannot be read as a whole (``code`` is a message code)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code=code, **params)


def _cell_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def read_table(raw: bytes, filename: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) for each row of a CSV or the first XLSX sheet."""
    if not raw:
        raise TableFileError("registry.empty_file")
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).worksheets[0]
        except Exception as failure:  # openpyxl raises many types for a broken file
            raise TableFileError("registry.bad_xlsx") from failure
        return [(n, [_cell_text(c) for c in row]) for n, row in enumerate(sheet.iter_rows(values_only=True), 1)]
    if suffix not in (".csv", ".txt"):
        raise TableFileError("registry.bad_file_type", suffix=suffix or "?")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TableFileError("registry.bad_encoding")
    reader = csv.reader(io.StringIO(text))
    return [(reader.line_num, [cell.strip() for cell in row]) for row in reader]


def parse_day(text: str) -> date:
    """2025-03-01, 2025/3/1, 20250301 or 2025年3月1日."""
    cleaned = text.strip().replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
    if len(cleaned) == 8 and cleaned.isdigit():
        cleaned = f"{cleaned[:4]}-{cleaned[4:6]}-{cleaned[6:]}"
    return date.fromisoformat("-".join(part.zfill(2) for part in cleaned.split("-")))


def _safe(value: object) -> object:
    """Neutralise spreadsheet formulas in text cells (CSV injection): a name never starts a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """UTF-8 with BOM: Excel on agency desktops then opens Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _safe(v.isoformat() if isinstance(v, date) else v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(header: Sequence[str], rows: Sequence[Sequence[object]], title: str) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(header))
    for row in rows:
        sheet.append([_safe(v) for v in row])
    for column in sheet.columns:
        letter = column[0].column_letter
        sheet.column_dimensions[letter].width = max(12, *(len(str(c.value or "")) * 2 for c in column[:50]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
