"""The back office speaks in messages: reasons in words (code on hover), case kinds, system notes, phones."""

from __future__ import annotations

import html
import pathlib
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from pensioncert.admin.words import ENROL_NOTE
from pensioncert.messages import catalogue
from pensioncert.storage.db import Database
from pensioncert.storage.models import Retiree
from pensioncert.storage.repository import notify, record_certification
from tests.admin.conftest import login

TAG = re.compile(r"<[^>]+>")


def visible(page: str) -> str:
    """The text a person reads: tags (and their attributes, such as title) removed."""
    return html.unescape(TAG.sub(" ", page))


def _retiree_id(database: Database, name: str) -> int:
    with database.session() as session:
        return session.scalars(select(Retiree.id).where(Retiree.name == name)).one()


def test_reasons_are_words_with_the_code_on_hover(client: TestClient) -> None:
    login(client, "reviewer")
    queue = client.get("/admin/review").text
    assert "人脸比对结果接近阈值" in visible(queue)
    assert "face.borderline_match" not in visible(queue)
    assert 'title="face.borderline_match"' in queue
    assert "liveness." not in visible(queue) and "face." not in visible(queue)


def test_unknown_codes_are_never_shown_raw(client: TestClient, seeded: Database) -> None:
    wu = _retiree_id(seeded, "吴建国")
    with seeded.session() as session:
        retiree = session.get(Retiree, wu)
        assert retiree is not None
        record_certification(session, retiree, channel="wechat", method="face_actions", result="review",
                             reasons=["face.some_future_check"])
    login(client, "reviewer")
    page = client.get(f"/admin/review/{wu}").text
    assert "face.some_future_check" not in visible(page)
    assert "其他原因" in visible(page) and 'title="face.some_future_check"' in page


def test_staff_see_which_identity_finding_the_phone_merged(client: TestClient, seeded: Database) -> None:
    """The phone says "identity not confirmed" for a splice, another person and a replay alike;
    the reviewer reads which one it was."""
    wu = _retiree_id(seeded, "吴建国")
    with seeded.session() as session:
        retiree = session.get(Retiree, wu)
        assert retiree is not None
        record_certification(session, retiree, channel="wechat", method="face_actions", result="review",
                             reasons=["liveness.replayed_recording", "liveness.identity_changed"])
    login(client, "reviewer")
    page = visible(client.get(f"/admin/review/{wu}").text)
    assert "疑似重放旧录像" in page and "疑似剪接" in page
    assert "未能确认是本人" not in page


def test_a_case_without_a_reference_photo_says_so(client: TestClient, seeded: Database) -> None:
    wu = _retiree_id(seeded, "吴建国")
    with seeded.session() as session:
        retiree = session.get(Retiree, wu)
        assert retiree is not None
        # A failed attempt as older versions wrote it (the enrolment note on every attempt, though
        # nothing was enrolled), then what the verification job writes when nothing can be compared.
        record_certification(session, retiree, channel="cityapp", method="face_actions", result="failed",
                             reasons=["liveness.action_not_seen"], scores={"reference": "enroll"}, notes=ENROL_NOTE)
        record_certification(session, retiree, channel="cityapp", method="manual_review", result="review",
                             reasons=["flow.review_no_reference"], scores={"reference": "enroll"})
    login(client, "reviewer")
    queue = client.get("/admin/review").text
    row = re.search(r"<tr>\s*<td>[^<]*</td>\s*<td>吴建国</td>.*?</tr>", queue, re.S)
    assert row is not None and "无比对照片" in visible(row.group(0)) and "比对结果临界" not in visible(row.group(0))
    page = client.get(f"/admin/review/{wu}").text
    kind = re.search(r'<dd id="case-kind">(.*?)</dd>', page, re.S)
    assert kind is not None
    assert "无比对照片" in visible(kind.group(1)) and "比对结果临界" not in visible(kind.group(1))
    assert "活体检测已通过" in visible(kind.group(1))
    text = visible(page)
    assert ENROL_NOTE not in text and "比对照片" not in text.split("认证记录")[-1]  # no enrolment note on attempts


def test_the_enrolment_note_appears_where_a_reference_was_enrolled(client: TestClient, seeded: Database) -> None:
    wu = _retiree_id(seeded, "吴建国")
    with seeded.session() as session:
        retiree = session.get(Retiree, wu)
        assert retiree is not None
        record_certification(session, retiree, channel="cityapp", method="manual_review", result="passed",
                             reasons=["admin.review.reason.same_person"], operator="reviewer",
                             notes=f"回访确认\n{ENROL_NOTE}")
    login(client, "operator")
    text = visible(client.get(f"/admin/retirees/{wu}").text)
    assert "回访确认" in text and "已采用本次录像中的人脸作为今后的比对照片" in text and ENROL_NOTE not in text


def test_every_reason_code_in_the_source_has_a_message() -> None:
    """Reason codes are string literals with these prefixes; each must be in a catalogue."""
    known = set(catalogue())
    pattern = re.compile(r"[\"']((?:face|liveness|verify|flow|media|ocr|decision)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)[\"']")
    source = pathlib.Path(__file__).resolve().parents[2] / "src" / "pensioncert"
    missing = {(match, path.name) for path in source.rglob("*.py")
               for match in pattern.findall(path.read_text(encoding="utf-8")) if match not in known}
    assert missing == set()


def test_notifications_on_the_retiree_page_mask_the_phone(client: TestClient, seeded: Database) -> None:
    zhang = _retiree_id(seeded, "张伟")
    with seeded.session() as session:
        notify(session, zhang, "notify.certified", {"certified_on": "2026-06-01"})
    login(client, "operator")
    page = client.get(f"/admin/retirees/{zhang}").text
    assert "138****0000" in page and "13800000000" not in page
    assert "2026年6月1日" in visible(page) and "待发送" in visible(page)


def test_every_audited_action_has_a_name_for_the_audit_page() -> None:
    """Audit actions are literals passed to audit(action=…) or staff.audit(…); each is named in admin.action."""
    known = set(catalogue())
    source = pathlib.Path(__file__).resolve().parents[2] / "src" / "pensioncert"
    pattern = re.compile(r'(?:\baction="|\baudit\(\s*")([a-z_.]+)"')
    actions = {match for path in source.rglob("*.py") for match in pattern.findall(path.read_text(encoding="utf-8"))}
    assert {"admin.review_accept", "notify.send", "session.start"} <= actions  # the pattern finds them
    missing = {action for action in actions if "admin.action." + action.removeprefix("admin.") not in known}
    assert missing == set()
