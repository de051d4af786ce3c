"""Who may do what: the one role × permission matrix every view is checked against.

Duties are separated: the administrator runs the registry and accounts but cannot certify or
review anyone; reviewers decide the queue; operators record offline certifications; auditors read
the audit trail and nothing personal. Dashboard counts (no personal data) are open to all staff.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ADMINISTRATOR = "administrator"
    REVIEWER = "reviewer"
    OPERATOR = "operator"
    AUDITOR = "auditor"


class Permission(enum.StrEnum):
    DASHBOARD = "dashboard"
    RETIREE_VIEW = "retiree_view"  # search, a retiree's page and history
    RETIREE_REVEAL_ID = "retiree_reveal_id"  # decrypt the full ID number
    EVIDENCE_VIEW = "evidence_view"  # biometric scores and best frames
    REVIEW = "review"  # the manual review queue and its decisions
    OFFLINE_CERTIFY = "offline_certify"
    REGISTRY_IMPORT = "registry_import"
    PASSIVE_IMPORT = "passive_import"  # passive evidence import and its configurable types
    SUSPENSIONS = "suspensions"  # suspension / resumption lists and exports
    STAFF_MANAGE = "staff_manage"
    AUDIT_VIEW = "audit_view"


MATRIX: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset({
        Permission.DASHBOARD, Permission.RETIREE_VIEW, Permission.RETIREE_REVEAL_ID, Permission.REGISTRY_IMPORT,
        Permission.PASSIVE_IMPORT, Permission.SUSPENSIONS, Permission.STAFF_MANAGE,
    }),
    Role.REVIEWER: frozenset({
        Permission.DASHBOARD, Permission.RETIREE_VIEW, Permission.RETIREE_REVEAL_ID, Permission.EVIDENCE_VIEW,
        Permission.REVIEW,
    }),
    Role.OPERATOR: frozenset({
        Permission.DASHBOARD, Permission.RETIREE_VIEW, Permission.RETIREE_REVEAL_ID, Permission.OFFLINE_CERTIFY,
    }),
    Role.AUDITOR: frozenset({Permission.DASHBOARD, Permission.AUDIT_VIEW}),
}


def allows(role: str, permission: Permission) -> bool:
    """True if ``role`` holds ``permission``; an unknown role holds nothing."""
    try:
        return permission in MATRIX[Role(role)]
    except ValueError:
        return False
