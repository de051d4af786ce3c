"""The outbox is filled by the events the pages promise, exactly once per event, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from pensioncert.admin import review
from pensioncert.clock import agency_today
from pensioncert.domain.calendar import add_months
from pensioncert.jobs.overdue import suspend_overdue
from pensioncert.notify.planner import plan, queue_reminders
from pensioncert.settings import CycleSettings
from pensioncert.storage.db import Database
from pensioncert.storage.models import Notification, Retiree
from pensioncert.storage.repository import enqueue_notification, record_certification
from tests.admin.conftest import TEST_PROTECTOR, seed

TODAY = agency_today()


@pytest.fixture
def db(database: Database) -> Database:
    seed(database, TEST_PROTECTOR, TODAY)
    return database


def _retiree_id(database: Database, name: str) -> int:
    with database.session() as session:
        return session.scalars(select(Retiree.id).where(Retiree.name == name)).one()


def _outbox(database: Database, retiree_id: int | None = None) -> list[Notification]:
    with database.session() as session:
        query = select(Notification).order_by(Notification.id)
        if retiree_id is not None:
            query = query.where(Notification.retiree_id == retiree_id)
        return list(session.scalars(query))


def test_a_reviewers_decision_queues_exactly_one_message(db: Database) -> None:
    zhang = _retiree_id(db, "张伟")  # the borderline demo case
    with db.session() as session:
        case = review.open_case(session, zhang)
        assert case is not None
        review.decide(session, zhang, case.record.id, accept=True, reason="same_person", notes="", reviewer="r")
    # The same form submitted again (double click, browser retry) is refused and queues nothing.
    with db.session() as session, pytest.raises(review.ReviewError, match="already_decided"):
        review.decide(session, zhang, case.record.id, accept=True, reason="same_person", notes="", reviewer="r")
    rows = _outbox(db, zhang)
    assert [(row.kind, row.state, row.idempotency_key) for row in rows] == [
        ("review_accepted", "pending", f"review:{case.record.id}")]
    assert rows[0].text.startswith("经工作人员审核") and f"{TODAY.year}年{TODAY.month}月{TODAY.day}日" in rows[0].text


def test_a_rejection_queues_the_offline_advice(db: Database) -> None:
    zhang = _retiree_id(db, "张伟")
    with db.session() as session:
        case = review.open_case(session, zhang)
        assert case is not None
        review.decide(session, zhang, case.record.id, accept=False, reason="not_same_person", notes="",
                      reviewer="r")
    (row,) = _outbox(db, zhang)
    assert row.kind == "review_rejected" and "社保经办窗口" in row.text


def test_the_unique_key_holds_even_when_the_caller_does_not_check(db: Database) -> None:
    zhang = _retiree_id(db, "张伟")
    with db.session() as session:
        first = enqueue_notification(session, zhang, "review_accepted", "notify.review_accepted",
                                     {"certified_on": TODAY}, key="review:999")
        second = enqueue_notification(session, zhang, "review_accepted", "notify.review_accepted",
                                      {"certified_on": TODAY}, key="review:999")
    with db.session() as session:  # a retry in a later transaction (a re-run job)
        third = enqueue_notification(session, zhang, "review_accepted", "notify.review_accepted",
                                     {"certified_on": TODAY}, key="review:999")
    assert (first, second, third) == (True, False, False)
    assert len(_outbox(db, zhang)) == 1


def test_two_concurrent_retries_of_one_event_leave_one_row(db: Database) -> None:
    """The second transaction waits for the first on the unique key, then inserts nothing."""
    zhang = _retiree_id(db, "张伟")
    second: list[bool] = []

    def retry() -> None:
        with db.session() as session:
            second.append(enqueue_notification(session, zhang, "reminder", "notify.reminder",
                                               {"due_date": TODAY, "days": 7}, key="reminder:race"))

    with db.session() as session:
        first = enqueue_notification(session, zhang, "reminder", "notify.reminder", {"due_date": TODAY, "days": 7},
                                     key="reminder:race")
        racer = threading.Thread(target=retry)
        racer.start()
        racer.join(0.3)  # gives the retry time to reach the insert; it cannot finish before this commit
    racer.join()
    assert (first, second) == (True, [False])
    with db.session() as session:
        assert len(session.scalars(select(Notification).where(Notification.idempotency_key == "reminder:race"))
                   .all()) == 1


def test_reminders_are_queued_once_per_window_and_offset(db: Database) -> None:
    zhang = _retiree_id(db, "张伟")
    with db.session() as session:
        retiree = session.get(Retiree, zhang)
        assert retiree is not None
        due = add_months(retiree.last_certified, 12)  # type: ignore[arg-type]
    thirty_before, a_week_before = due - timedelta(days=30), due - timedelta(days=7)
    with db.session() as session:
        queued = queue_reminders(session, thirty_before)
        again = queue_reminders(session, thirty_before)  # a second sweep on the same day
        next_day = queue_reminders(session, thirty_before + timedelta(days=1))  # still the 30-day reminder
    assert queued >= 1 and again == 0 and next_day == 0
    with db.session() as session:
        queue_reminders(session, a_week_before)
    rows = [row for row in _outbox(db, zhang) if row.kind == "reminder"]
    assert [row.idempotency_key for row in rows] == [f"reminder:{zhang}:{due.isoformat()}:30",
                                                     f"reminder:{zhang}:{due.isoformat()}:7"]
    assert "还有30天" in rows[0].text and "还有7天" in rows[1].text


def test_no_reminder_for_those_who_may_not_or_need_not_certify(db: Database) -> None:
    with db.session() as session:
        queue_reminders(session, TODAY + timedelta(days=25))
    names = set()
    with db.session() as session:
        for row in session.scalars(select(Notification).where(Notification.kind == "reminder")):
            retiree = session.get(Retiree, row.retiree_id)
            assert retiree is not None
            names.add(retiree.name)
    # 李娜 already certified, 赵敏 retired elsewhere, 杨军's information is abnormal, 黄强 terminated.
    assert names.isdisjoint({"李娜", "赵敏", "杨军", "黄强", "刘洋"})
    assert "张伟" in names


def test_suspension_and_resumption_each_queue_one_message(db: Database) -> None:
    zhou = _retiree_id(db, "周秀英")  # suspended as overdue by the seed's sweep
    with db.session() as session:
        assert suspend_overdue(session, TODAY, CycleSettings()) == 0  # a second sweep changes nothing
    (suspended,) = _outbox(db, zhou)
    assert suspended.kind == "suspended" and "暂停发放" in suspended.text
    with db.session() as session:
        retiree = session.get(Retiree, zhou)
        assert retiree is not None
        record_certification(session, retiree, channel="window", method="offline", result="passed",
                             certified_on=TODAY)
    kinds = [row.kind for row in _outbox(db, zhou)]
    assert kinds == ["suspended", "resumed"]
    assert "恢复发放" in _outbox(db, zhou)[1].text


def test_plan_changes_nothing_and_masks_numbers(db: Database) -> None:
    before = len(_outbox(db))
    with db.session() as session:
        planned = plan(session, TODAY + timedelta(days=25))
    assert len(_outbox(db)) == before
    assert {item.source for item in planned} >= {"reminder", "outbox"}
    assert all(item.phone == "138****0000" for item in planned)
    assert all("13800000000" not in str(item.as_dict()) for item in planned)


def test_rows_from_before_the_outbox_are_rendered_by_the_migration(tmp_path: Path) -> None:
    from alembic import command

    from pensioncert.storage.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    database = Database(url)
    config = alembic_config(url)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004_challenge_start")
        connection.execute(text(
            "INSERT INTO retirees (id, id_number_hash, id_number_encrypted, id_number_masked, name, sex, birth_date,"
            " region_code, district, pension_type, retired_locally, status, first_payment, phone)"
            " VALUES (1, 'h', x'00', 'm', '张伟', 'male', '1958-03-12', '440304', '', 'employee', 1, 'normal',"
            " '2016-01-01', '13800000000')"))
        connection.execute(text("INSERT INTO notifications (retiree_id, channel, message_code, params, sent_at) VALUES"
                                " (1, 'sms', 'notify.certified', '{\"certified_on\": \"2026-06-01\"}', NULL),"
                                " (1, 'sms', 'admin.notice.gone', '{}', '2026-06-02 10:00:00')"))
    database.migrate()
    rows = _outbox(database)
    database.dispose()
    assert [(row.idempotency_key, row.state, row.kind) for row in rows] == [
        ("legacy:1", "pending", "certified"), ("legacy:2", "sent", "gone")]
    assert "2026年6月1日" in rows[0].text
