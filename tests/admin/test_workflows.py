"""Review, offline and passive certification, exports and dashboard figures, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from pensioncert.admin import offline, passive, review, suspensions
from pensioncert.admin.dashboard import figures
from pensioncert.certification.demo_data import demo_id_number
from pensioncert.clock import agency_today
from pensioncert.domain.eligibility import resumption_on_certification
from pensioncert.registry import tables
from pensioncert.storage.db import Database
from pensioncert.storage.models import CertificationRecord, Notification, Retiree
from tests.admin.conftest import TEST_PROTECTOR, seed

TODAY = agency_today()
CHEN_JING = demo_id_number("440307", date(1955, 5, 21), 58)  # overdue and suspended
ZHANG_WEI = demo_id_number("440304", date(1958, 3, 12), 17)  # in window
LI_NA = demo_id_number("440305", date(1960, 1, 30), 42)  # already certified
ZHAO_MIN = demo_id_number("110105", date(1959, 4, 17), 86)  # retired elsewhere
HUANG_QIANG = demo_id_number("440303", date(1940, 2, 29), 95)  # terminated


@pytest.fixture
def db(database: Database) -> Database:
    seed(database, TEST_PROTECTOR, TODAY)
    return database


def _retiree(database: Database, name: str) -> Retiree:
    with database.session() as session:
        return session.scalars(select(Retiree).where(Retiree.name == name)).one()


def test_queue_holds_borderline_and_repeated_failures(db: Database) -> None:
    with db.session() as session:
        cases = review.open_cases(session)
    assert sorted((case.retiree.name, case.kind) for case in cases) == [
        ("周秀英", "repeated_failures"), ("张伟", "borderline")]
    assert next(case for case in cases if case.retiree.name == "周秀英").failures == 3


def test_accepting_certifies_and_resumes_with_back_pay(db: Database) -> None:
    before = _retiree(db, "周秀英")
    assert before.status == "suspended" and before.suspended_from is not None
    with db.session() as session:
        case = review.open_case(session, before.id)
        assert case is not None
        record = review.decide(session, before.id, case.record.id, accept=True, reason="confirmed_by_contact",
                               notes="called her daughter", reviewer="reviewer")
        assert record.method == "manual_review" and record.result == "passed" and record.operator == "reviewer"
        assert review.open_cases(session, before.id) == []
    after = _retiree(db, "周秀英")
    expected = resumption_on_certification(before.suspended_from, TODAY).back_pay_months
    assert (after.status, after.last_certified, record.back_pay_months) == ("normal", TODAY, expected)
    with db.session() as session:
        notices = session.scalars(select(Notification.message_code).where(Notification.retiree_id == after.id)
                                  .order_by(Notification.id)).all()
    assert notices == ["notify.suspended", "notify.resumed", "notify.review_accepted"]


def test_rejecting_closes_the_case_without_certifying(db: Database) -> None:
    zhang = _retiree(db, "张伟")
    with db.session() as session:
        case = review.open_case(session, zhang.id)
        assert case is not None
        with pytest.raises(review.ReviewError, match="reason_required"):
            review.decide(session, zhang.id, case.record.id, accept=False, reason="same_person", notes="",
                          reviewer="reviewer")
        review.decide(session, zhang.id, case.record.id, accept=False, reason="replay_suspected", notes="",
                      reviewer="reviewer")
    assert _retiree(db, "张伟").last_certified == zhang.last_certified
    with db.session() as session, pytest.raises(review.ReviewError, match="already_decided"):
        review.decide(session, zhang.id, case.record.id, accept=True, reason="same_person", notes="",
                      reviewer="someone-else")


def test_a_newer_attempt_makes_the_decision_stale(db: Database) -> None:
    from pensioncert.storage.repository import record_certification

    zhang = _retiree(db, "张伟")
    with db.session() as session:
        case = review.open_case(session, zhang.id)
        assert case is not None
        seen = case.record.id
        record_certification(session, session.get(Retiree, zhang.id), channel="wechat",  # type: ignore[arg-type]
                             method="face_digits", result="review")
    with db.session() as session, pytest.raises(review.ReviewError, match="stale"):
        review.decide(session, zhang.id, seen, accept=True, reason="same_person", notes="", reviewer="reviewer")


def test_offline_certification_resumes_a_suspended_pension(db: Database) -> None:
    before = _retiree(db, "陈静")
    assert before.suspended_from is not None
    with db.session() as session:
        outcome = offline.record_offline(
            session, TEST_PROTECTOR, id_number=CHEN_JING, name="陈 静", channel="home_visit", certified_on=TODAY,
            today=TODAY, operator="operator", notes="bedridden; visited at home", proxy=("陈明", None, "儿子"))
        assert outcome.was_suspended
        record = session.get(CertificationRecord, outcome.record.id)
        assert record is not None
        assert (record.method, record.channel, record.operator, record.proxy_name) == (
            "offline", "home_visit", "operator", "陈明")
        assert record.back_pay_months == resumption_on_certification(before.suspended_from, TODAY).back_pay_months
    assert _retiree(db, "陈静").status == "normal"


@pytest.mark.parametrize(("number", "name", "day", "code"), [
    (LI_NA, "李娜", TODAY, "decision.already_certified"),
    (ZHAO_MIN, "赵敏", TODAY, "decision.out_of_scope"),
    (HUANG_QIANG, "黄强", TODAY, "decision.terminated"),
    (ZHANG_WEI, "李四", TODAY, "decision.name_mismatch"),
    (ZHANG_WEI, "张伟", TODAY + timedelta(days=1), "admin.offline.future_date"),
    (ZHANG_WEI[:-1] + ("0" if ZHANG_WEI[-1] != "0" else "1"), "张伟", TODAY, "id.bad_checksum"),
])
def test_offline_refusals(db: Database, number: str, name: str, day: date, code: str) -> None:
    with db.session() as session, pytest.raises(offline.OfflineError) as refused:
        offline.record_offline(session, TEST_PROTECTOR, id_number=number, name=name, channel="window",
                               certified_on=day, today=TODAY, operator="operator")
    assert refused.value.code == code


def _evidence_csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    return tables.to_csv(("身份证号码", "姓名", "证据类型", "证据日期", "来源机构"),
                         [[*row, "市人民医院"] for row in rows])


def test_passive_import_certifies_notifies_and_is_idempotent(db: Database) -> None:
    raw = _evidence_csv([
        (ZHANG_WEI, "张伟", "hospital_visit", TODAY.isoformat()),
        (LI_NA, "李娜", "银行柜台业务", TODAY.isoformat()),
        (HUANG_QIANG, "黄强", "hospital_visit", TODAY.isoformat()),
        (ZHANG_WEI, "张伟", "fortune_teller", TODAY.isoformat()),
        (ZHANG_WEI, "张伟", "hospital_visit", (TODAY - timedelta(days=400)).isoformat()),
    ])
    with db.session() as session:
        report = passive.import_evidence(session, TEST_PROTECTOR, raw, "evidence.csv", TODAY, "admin")
    assert (report.rows, report.certified, report.already_certified) == (5, 1, 1)
    assert [e.code for e in report.errors] == [
        "admin.passive.refused.terminated", "admin.passive.unknown_type", "admin.passive.stale"]
    zhang = _retiree(db, "张伟")
    assert zhang.last_certified == TODAY
    with db.session() as session:
        record = session.scalars(select(CertificationRecord).where(CertificationRecord.retiree_id == zhang.id,
                                                                   CertificationRecord.method == "passive")).one()
        assert (record.evidence_type, record.result) == ("hospital_visit", "passed")
        assert session.scalars(select(Notification.message_code).where(Notification.retiree_id == zhang.id)).all() \
            == ["admin.notice.passive_certified"]
        again = passive.import_evidence(session, TEST_PROTECTOR, raw, "evidence.csv", TODAY, "admin")
    assert (again.certified, again.already_certified) == (0, 2)


def test_passive_file_without_required_columns_is_refused(db: Database) -> None:
    with db.session() as session, pytest.raises(passive.PassiveError, match="missing_columns"):
        passive.import_evidence(session, TEST_PROTECTOR, "姓名\n张伟\n".encode(), "x.csv", TODAY, "admin")


def test_suspension_exports_carry_full_id_numbers(db: Database) -> None:
    with db.session() as session:
        rows = suspensions.suspension_rows(suspensions.suspended(session, TODAY), TEST_PROTECTOR)
    body = tables.to_csv(suspensions.SUSPENSION_HEADER, rows)
    assert body.startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert parsed[0][:2] == ["姓名", "身份证号码"]
    assert {(row[0], row[1]) for row in parsed[1:]} == {("陈静", CHEN_JING),
                                                       ("周秀英", demo_id_number("440308", date(1948, 9, 9), 102))}
    sheet = load_workbook(io.BytesIO(tables.to_xlsx(suspensions.SUSPENSION_HEADER, rows, "suspensions"))).active
    assert sheet is not None
    assert sorted(row[1] for row in sheet.iter_rows(min_row=2, values_only=True)) == sorted(r[1] for r in parsed[1:])


def test_resumption_list_after_recertification(db: Database) -> None:
    with db.session() as session:
        offline.record_offline(session, TEST_PROTECTOR, id_number=CHEN_JING, name="陈静", channel="window",
                               certified_on=TODAY, today=TODAY, operator="operator")
        pairs = suspensions.resumptions(session, TODAY - timedelta(days=1))
        rows = suspensions.resumption_rows(pairs, TEST_PROTECTOR)
    assert [(row[0], row[1]) for row in rows] == [("陈静", CHEN_JING)]
    assert isinstance(rows[0][-1], int) and rows[0][-1] >= 1


def test_spreadsheet_formulas_are_neutralised() -> None:
    body = tables.to_csv(("姓名",), [["=HYPERLINK(\"http://x\")"], ["张伟"]]).decode("utf-8-sig")
    assert "'=HYPERLINK" in body and "\n张伟" in body


def test_dashboard_partitions_the_registry(db: Database) -> None:
    with db.session() as session:
        data = figures(session, TODAY)
    assert dict(data.totals) == {"in_window": 3, "certified": 1, "due": 1, "suspended": 2}
    assert data.other == 3
    assert sum(sum(c.values()) for c in data.by_district.values()) == data.in_scope
    assert len(data.progress) == 12 and all(0.0 <= share <= 1.0 for _, share in data.progress)
