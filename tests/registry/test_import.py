import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from pensioncert.certification.demo_data import demo_id_number
from pensioncert.registry.importer import RegistryFileError, import_registry
from pensioncert.storage.crypto import Protector
from pensioncert.storage.db import Database
from pensioncert.storage.models import Retiree

TODAY = date(2026, 11, 27)
GOOD_A = demo_id_number("440304", date(1958, 3, 12), 17)
GOOD_B = demo_id_number("440303", date(1962, 7, 8), 24)
HEADER = "姓名,身份证号码,养老保险类型,是否本地退休,状态,首次发放日期,上次认证日期,所属区\n"


def csv_bytes(body: str, encoding: str = "utf-8") -> bytes:
    return (HEADER + body).encode(encoding)


def count(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Retiree)) or 0)


def test_good_file_imports_and_reimport_changes_nothing(database: Database, protector: Protector) -> None:
    raw = csv_bytes(f"张伟,{GOOD_A},企业职工,是,正常,2018-04-01,2025-12-01,福田区\n"
                    f"王芳,{GOOD_B},城乡居民,是,正常,2020/01/01,,罗湖区\n")
    first = import_registry(database, protector, raw, "r.csv", TODAY)
    assert (first.created, first.updated, first.errors) == (2, 0, [])
    second = import_registry(database, protector, raw, "r.csv", TODAY)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert count(database) == 2


def test_bad_rows_reported_with_line_numbers_good_rows_only_with_partial(database: Database,
                                                                        protector: Protector) -> None:
    bad_checksum = GOOD_B[:-1] + ("0" if GOOD_B[-1] != "0" else "1")
    raw = csv_bytes(
        f"张伟,{GOOD_A},企业职工,是,正常,2018-04-01,2025-12-01,福田区\n"
        f"王芳,{bad_checksum},城乡居民,是,正常,2020-01-01,,罗湖区\n"
        f"李娜,{GOOD_B},火星养老,是,正常,2020-01-01,,罗湖区\n"
        f"赵六,{GOOD_B},城乡居民,是,正常,2020-13-01,,罗湖区\n"
        f",{GOOD_B},城乡居民,是,正常,2020-01-01,,罗湖区\n"
        f"张伟,{GOOD_A},企业职工,是,正常,2018-04-01,2025-12-01,福田区\n"
    )
    report = import_registry(database, protector, raw, "r.csv", TODAY, partial=True)
    assert [(e.line, e.code) for e in report.errors] == [
        (3, "id.bad_checksum"),
        (4, "registry.bad_pension_type"),
        (5, "registry.bad_date"),
        (6, "registry.missing_value"),
        (7, "registry.duplicate_row"),
    ]
    assert report.created == 1 and count(database) == 1


def test_gbk_encoded_csv(database: Database, protector: Protector) -> None:
    raw = csv_bytes(f"张伟,{GOOD_A},企业职工,是,正常,2018-04-01,2025-12-01,福田区\n", encoding="gbk")
    assert import_registry(database, protector, raw, "r.csv", TODAY).created == 1
    with database.session() as session:
        assert session.scalars(select(Retiree.name)).one() == "张伟"


def test_xlsx(database: Database, protector: Protector) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.strip().split(","))
    sheet.append(["王芳", GOOD_B, "城乡居民", "是", "正常", date(2020, 1, 1), None, "罗湖区"])
    sheet.append(["坏行", "123", "城乡居民", "是", "正常", date(2020, 1, 1), None, "罗湖区"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_registry(database, protector, buffer.getvalue(), "r.xlsx", TODAY, partial=True)
    assert report.created == 1
    assert [(e.line, e.code) for e in report.errors] == [(3, "id.bad_length")]


@pytest.mark.parametrize(
    ("raw", "name", "code"),
    [
        (b"", "r.csv", "registry.empty_file"),
        (b"name,phone\nx,1\n", "r.csv", "registry.missing_columns"),
        (b"\xff\xfe\x00garbage", "r.xlsx", "registry.bad_xlsx"),
        (b"x", "r.pdf", "registry.bad_file_type"),
        (bytes([0x81, 0x30, 0x81]) * 3 + b"\xff", "r.csv", "registry.bad_encoding"),
    ],
)
def test_unreadable_files_change_nothing(database: Database, protector: Protector, raw: bytes, name: str,
                                         code: str) -> None:
    with pytest.raises(RegistryFileError) as error:
        import_registry(database, protector, raw, name, TODAY)
    assert error.value.code == code
    assert count(database) == 0


def test_failure_mid_file_applies_nothing(database: Database, protector: Protector,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from pensioncert.registry import importer

    calls = {"n": 0}
    real_upsert = importer.upsert_retiree

    def crash_on_second(*args: object, **kwargs: object) -> str:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real_upsert(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importer, "upsert_retiree", crash_on_second)
    raw = csv_bytes(
        f"张伟,{GOOD_A},企业职工,是,正常,2018-04-01,,福田区\n王芳,{GOOD_B},城乡居民,是,正常,2020-01-01,,罗湖区\n"
    )
    with pytest.raises(RuntimeError):
        import_registry(database, protector, raw, "r.csv", TODAY)
    assert count(database) == 0
