"""Staff accounts and sessions: argon2 password hashes, server-side sessions, CSRF tokens, lockout.

The browser holds only a random session token; the database keeps its SHA-256, so a leaked
database does not yield usable cookies. Each session carries its own CSRF token (synchronizer
pattern), checked on every state-changing request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pensioncert.admin.models import StaffSession
from pensioncert.admin.roles import Role
from pensioncert.settings import get_settings
from pensioncert.storage.models import AuditEntry, StaffUser
from pensioncert.storage.repository import audit, utcnow


def session_max() -> timedelta:
    """Longest life of a staff session (settings.admin)."""
    return timedelta(hours=get_settings().admin.session_max_hours)


USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")

_hasher = PasswordHasher()


class AccountError(ValueError):
    """An account operation was refused; ``code`` is a message code of ``admin.toml``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def hash_password(password: str) -> str:
    if len(password) < get_settings().admin.min_password_length:
        raise AccountError("admin.staff.password_too_short")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_staff(session: Session, username: str, password: str, role: str, display_name: str = "") -> StaffUser:
    """Create an account; usernames are lower-case ASCII so that audit entries stay unambiguous."""
    username = username.strip().lower()
    if not username or not set(username) <= USERNAME_CHARS or len(username) > 64:
        raise AccountError("admin.staff.bad_username")
    try:
        Role(role)
    except ValueError as bad:
        raise AccountError("admin.staff.bad_role") from bad
    if session.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
        raise AccountError("admin.staff.exists")
    user = StaffUser(username=username, display_name=display_name or username, password_hash=hash_password(password),
                     role=role, active=True)
    session.add(user)
    session.flush()
    return user


def set_password(user: StaffUser, password: str) -> None:
    user.password_hash = hash_password(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unlocked_at(session: Session, username: str) -> datetime | None:
    """When an administrator last unlocked ``username`` (failures before it no longer count)."""
    return session.scalar(select(func.max(AuditEntry.at)).where(
        AuditEntry.action == "admin.login_unlocked", AuditEntry.actor == username))


def _failures(session: Session, username: str, since: datetime, ip: str | None = None) -> tuple[int, datetime | None]:
    """Failed sign-ins of ``username`` since ``since`` (from ``ip`` only, if given): count and latest."""
    query = select(func.count(), func.max(AuditEntry.at)).select_from(AuditEntry).where(
        AuditEntry.action == "admin.login_failed", AuditEntry.actor == username, AuditEntry.at > since)
    if ip is not None:
        query = query.where(AuditEntry.ip == ip)
    count, latest = session.execute(query).one()
    return int(count or 0), latest


@dataclass(frozen=True)
class LoginResult:
    token: str | None  # the cookie value, None when refused
    code: str  # message code explaining a refusal (or admin.login.ok)
    params: dict[str, int] = field(default_factory=dict)


def login(session: Session, username: str, password: str, ip: str = "") -> LoginResult:
    """Check credentials and open a session. Every attempt is audited.

    Failures back off per (username, client address): ``lockout_failures`` within the window lock
    that pair only, so an outsider cannot lock a reviewer out of their own workstation. Failures of
    the username from all addresses above ``lockout_username_ceiling`` only slow every address down
    to one try per ``lockout_slow_seconds``. An administrator's unlock resets both (docs/security.md).
    """
    policy = get_settings().admin
    username = username.strip().lower()[:64]
    now = utcnow()
    since = now - timedelta(minutes=policy.lockout_window_minutes)
    unlocked = _unlocked_at(session, username)
    if unlocked is not None and _aware(unlocked) > since:
        since = _aware(unlocked)
    pair_failures, pair_latest = _failures(session, username, since, ip)
    if pair_failures >= policy.lockout_failures:
        audit(session, actor=username, role="", action="admin.login_locked", ip=ip)
        return LoginResult(None, "admin.login.locked")
    user_failures, _ = _failures(session, username, since)
    if user_failures >= policy.lockout_username_ceiling and pair_latest is not None:
        wait = policy.lockout_slow_seconds - (now - _aware(pair_latest)).total_seconds()
        if wait > 0:
            audit(session, actor=username, role="", action="admin.login_slowed", ip=ip)
            return LoginResult(None, "admin.login.slow_down", {"seconds": int(wait) + 1})
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or not user.active or not verify_password(user.password_hash, password):
        if user is None:
            verify_password(_DUMMY_HASH, password)  # same cost whether or not the name exists
        role = user.role if user else ""
        audit(session, actor=username, role=role, action="admin.login_failed", ip=ip)
        if pair_failures + 1 == policy.lockout_failures:
            audit(session, actor=username, role=role, action="admin.login_lockout", ip=ip,
                  detail={"scope": "address", "minutes": policy.lockout_window_minutes})
        if user_failures + 1 == policy.lockout_username_ceiling:
            audit(session, actor=username, role=role, action="admin.login_slowdown", ip=ip,
                  detail={"scope": "username", "seconds": policy.lockout_slow_seconds})
        return LoginResult(None, "admin.login.failed")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_token_hash(token), staff_user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                             last_seen=now, expires_at=now + session_max(), ip=ip))
    audit(session, actor=user.username, role=user.role, action="admin.login", ip=ip)
    return LoginResult(token, "admin.login.ok")


def unlock(session: Session, user: StaffUser, by: str, ip: str = "") -> None:
    """Lift every lock and slow-down of ``user`` (failures before now stop counting); audited under the
    locked account's name, the administrator's own entry is the view's."""
    audit(session, actor=user.username, role=user.role, action="admin.login_unlocked", detail={"by": by}, ip=ip)


_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we write is UTC."""
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def peek_session(session: Session, token: str | None) -> tuple[StaffSession, StaffUser] | None:
    """The live session and active account behind a cookie token, or None; changes nothing."""
    if not token:
        return None
    staff_session = session.scalar(select(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
    if staff_session is None or staff_session.revoked_at is not None:
        return None
    now = utcnow()
    idle_limit = timedelta(minutes=get_settings().admin.session_idle_minutes)
    if _aware(staff_session.expires_at) <= now or _aware(staff_session.last_seen) + idle_limit <= now:
        return None
    user = session.get(StaffUser, staff_session.staff_user_id)
    if user is None or not user.active:
        return None
    return staff_session, user


def resolve_session(session: Session, token: str | None) -> tuple[StaffSession, StaffUser] | None:
    """Like ``peek_session``, and the idle clock restarts (a request of the staff member)."""
    resolved = peek_session(session, token)
    if resolved is not None:
        resolved[0].last_seen = utcnow()
    return resolved


def logout(session: Session, staff_session: StaffSession) -> None:
    staff_session.revoked_at = utcnow()


def revoke_all(session: Session, user: StaffUser) -> None:
    """End every session of ``user`` (deactivation, password reset)."""
    for live in session.scalars(select(StaffSession).where(StaffSession.staff_user_id == user.id,
                                                            StaffSession.revoked_at.is_(None))):
        live.revoked_at = utcnow()


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
