from datetime import date

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from pensioncert.certification.demo_data import demo_id_number
from pensioncert.storage.crypto import DecryptionFailed, Protector
from pensioncert.storage.db import Database
from pensioncert.storage.models import AuditEntry, CertificationRecord, Retiree
from pensioncert.storage.repository import (
    RetireeInput,
    audit,
    find_retiree,
    history,
    record_certification,
    upsert_retiree,
)


def a_retiree(**changes: object) -> RetireeInput:
    values: dict[str, object] = dict(
        id_number=demo_id_number("440304", date(1958, 3, 12), 17),
        name="张伟",
        sex="male",
        birth_date=date(1958, 3, 12),
        region_code="440304",
        pension_type="employee",
        retired_locally=True,
        status="normal",
        first_payment=date(2018, 4, 1),
        last_certified=date(2025, 12, 1),
    )
    values.update(changes)
    return RetireeInput(**values)  # type: ignore[arg-type]


def test_id_numbers_are_not_stored_in_clear(database: Database, protector: Protector) -> None:
    row = a_retiree()
    with database.session() as session:
        assert upsert_retiree(session, protector, row) == "created"
    with database.session() as session:
        stored = session.scalars(select(Retiree)).one()
        assert row.id_number not in stored.id_number_hash
        assert row.id_number.encode() not in stored.id_number_encrypted
        assert protector.decrypt_text(stored.id_number_encrypted, "id_number") == row.id_number
        assert stored.id_number_masked == "4403**********0177"
        assert find_retiree(session, protector, row.id_number) is not None


def test_upsert_is_idempotent(database: Database, protector: Protector) -> None:
    with database.session() as session:
        upsert_retiree(session, protector, a_retiree())
    with database.session() as session:
        assert upsert_retiree(session, protector, a_retiree()) == "unchanged"
        assert upsert_retiree(session, protector, a_retiree(district="南山区")) == "updated"


def test_passed_certification_resumes_suspended_pension(database: Database, protector: Protector) -> None:
    with database.session() as session:
        upsert_retiree(session, protector, a_retiree(status="suspended", last_certified=date(2025, 5, 1)))
        session.flush()
        retiree = find_retiree(session, protector, a_retiree().id_number)
        assert retiree is not None
        retiree.suspended_from = date(2026, 6, 1)
        record = record_certification(
            session, retiree, channel="wechat", method="face_digits", result="passed", certified_on=date(2026, 8, 20),
            proxy=("张小伟", "13900000000", "son"),
        )
        assert record.back_pay_months == 3
        assert retiree.status == "normal" and retiree.last_certified == date(2026, 8, 20)
    with database.session() as session:
        retiree = find_retiree(session, protector, a_retiree().id_number)
        assert retiree is not None
        records = history(session, retiree.id)
        assert [r.proxy_relationship for r in records] == ["son"]


def test_failed_attempt_does_not_move_the_cycle(database: Database, protector: Protector) -> None:
    with database.session() as session:
        upsert_retiree(session, protector, a_retiree())
        session.flush()
        retiree = find_retiree(session, protector, a_retiree().id_number)
        assert retiree is not None
        record_certification(session, retiree, channel="alipay", method="face_actions", result="failed",
                             reasons=["liveness.action_not_seen"])
        assert retiree.last_certified == date(2025, 12, 1)


def test_records_and_audit_are_append_only(database: Database, protector: Protector) -> None:
    with database.session() as session:
        upsert_retiree(session, protector, a_retiree())
        session.flush()
        retiree = find_retiree(session, protector, a_retiree().id_number)
        assert retiree is not None
        record_certification(session, retiree, channel="window", method="offline", result="passed", operator="op1")
        audit(session, actor="op1", role="operator", action="offline_certification", retiree_id=retiree.id)
    for statement in (
        update(CertificationRecord).values(result="failed"),
        delete(CertificationRecord),
        update(AuditEntry).values(actor="someone-else"),
        delete(AuditEntry),
    ):
        with pytest.raises(DatabaseError), database.session() as session:
            session.execute(statement)
    with database.session() as session:
        assert session.scalars(select(CertificationRecord.result)).all() == ["passed"]
        assert session.scalars(select(AuditEntry.actor)).all() == ["op1"]


def test_migration_is_idempotent(database: Database) -> None:
    database.migrate()
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() is not None


def test_tampered_ciphertext_is_refused(protector: Protector) -> None:
    sealed = bytearray(protector.encrypt(b"portrait"))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionFailed):
        protector.decrypt(bytes(sealed))
    other = Protector("b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMDE=", "x")
    with pytest.raises(DecryptionFailed):
        other.decrypt(protector.encrypt(b"portrait"))
