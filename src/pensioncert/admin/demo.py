"""Demo accounts (one per role) and demo review cases, so that ``pensioncert demo`` shows the back office.

The passwords are public (docs/admin.md): never run the demo against a real registry.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pensioncert.admin.auth import create_staff
from pensioncert.admin.review import open_cases
from pensioncert.storage.models import Retiree, StaffUser
from pensioncert.storage.repository import record_certification

DEMO_STAFF = (
    ("admin", "administrator", "演示管理员", "demo-admin-pass"),
    ("reviewer", "reviewer", "演示审核员", "demo-reviewer-pass"),
    ("operator", "operator", "演示窗口经办", "demo-operator-pass"),
    ("auditor", "auditor", "演示审计员", "demo-auditor-pass"),
)


def ensure_demo_staff(session: Session) -> list[tuple[str, str, str]]:
    """Create the missing demo accounts, and demo review cases so the reviewer has a queue to clear;
    return (username, role, password) of every demo account."""
    for username, role, display, password in DEMO_STAFF:
        if session.scalar(select(StaffUser).where(StaffUser.username == username)) is None:
            create_staff(session, username, password, role, display)
    ensure_demo_review_cases(session)
    return [(username, role, password) for username, role, _display, password in DEMO_STAFF]


def ensure_demo_review_cases(session: Session) -> int:
    """Give the review queue two cases (a borderline score, three failures) when it is empty."""
    if open_cases(session):
        return 0
    by_name = {r.name: r for r in session.scalars(select(Retiree).where(Retiree.name.in_(["张伟", "周秀英"])))}
    created = 0
    if "张伟" in by_name:
        record_certification(session, by_name["张伟"], channel="wechat", method="face_digits", result="review",
                             reasons=["face.borderline_match"], scores={"match_distance": 0.52, "liveness": 0.91})
        created += 1
    if "周秀英" in by_name:
        for reason in ("face.too_dark", "liveness.action_not_seen", "liveness.action_not_seen"):
            record_certification(session, by_name["周秀英"], channel="cityapp", method="face_actions",
                                 result="failed", reasons=[reason], scores={"match_distance": 0.61, "liveness": 0.4})
        created += 1
    return created
