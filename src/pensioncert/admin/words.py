"""How the back office words a record: the kind of a review case and the system's notes.

Records carry stable codes and, for a few system events, fixed English notes written by the
verification job or the review decision. Staff read neither: they read what the case is and what
happened, in their language. Pure functions of a record, so the templates stay free of rules.
"""

from __future__ import annotations

from pensioncert.storage.models import CertificationRecord

# Notes written by the system (jobs/verification.py, admin/review.py), not by staff.
ENROL_NOTE = "reference enrolled from this recording"
CARD_ENROL_NOTE = "reference enrolled from this session's ID-card portrait"
RETRY_CAP_NOTE = "retry cap reached on the phone channel"
RETRY_CAP_REASONS = ("flow.retry_cap_session", "flow.retry_cap_day", "flow.retry_cap_month")
# Why the verification job sent a recording it passed to a reviewer (jobs/verification.py).
REVIEW_KINDS = {
    "flow.review_no_reference": "enrolment",
    "flow.review_card_portrait": "card_portrait",
    "flow.review_untimed": "untimed",
}


def case_kind(record: CertificationRecord, scanned_kind: str) -> str:
    """The kind of review case ``record`` opened, finer than the queue's scan.

    A "review" record is not always a borderline comparison: with no photo to compare with the
    recording waits for enrolment, a card-portrait match or a native-camera recording needs a
    person, and a retry cap also requests a review. Calling those "borderline" (with no reason)
    sent reviewers looking for a score that does not exist.
    """
    if scanned_kind != "borderline":
        return scanned_kind
    if record.scores.get("reference") == "enroll":
        return "enrolment"
    for code in record.reasons:
        if code in REVIEW_KINDS:
            return REVIEW_KINDS[code]
        if code in RETRY_CAP_REASONS:
            return "retry_cap"
    return "borderline"


def case_explanation(record: CertificationRecord, kind: str) -> str | None:
    """A message code that says what the case is about when the reasons alone do not."""
    if kind == "enrolment":
        return "admin.review.why.enrolment"
    return None if record.reasons else "admin.review.why.none"


def notes_of(record: CertificationRecord) -> list[tuple[str | None, str]]:
    """(message code, free text) per line of a record's notes; staff notes are shown as written.

    An enrolment note is shown only where a reference was really enrolled: on the reviewer's
    acceptance that adopted it. Records written before enrolment moved to the reviewer carried the
    note on every attempt, failed ones included; there it is dropped (nothing was enrolled).
    """
    shown: list[tuple[str | None, str]] = []
    adopted = record.method == "manual_review" and record.result == "passed"
    for line in (record.notes or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if line == ENROL_NOTE:
            if adopted:
                shown.append(("admin.note.reference_adopted", ""))
        elif line == CARD_ENROL_NOTE:
            if adopted:
                shown.append(("admin.note.reference_adopted_card", ""))
        elif line == RETRY_CAP_NOTE:
            shown.append(("admin.note.retry_cap", ""))
        else:
            shown.append((None, line))
    return shown
