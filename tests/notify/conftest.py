"""Notification tests reuse the back office's seeded demo registry (and its cheap password hashing)."""

from tests.admin.conftest import _cheap_password_hashing  # noqa: F401 (an autouse fixture, registered by import)
