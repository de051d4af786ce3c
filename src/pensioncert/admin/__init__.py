"""The back office for agency staff: accounts, roles, dashboard, registry, review, offline and passive
certification, suspension lists and the audit trail.

Layout: one module per noun holding its operations (``review.py``, ``offline.py`` …), HTTP in
``views/`` (one file per noun), who-may-do-what in ``roles.py`` and ``guard.py``.
"""
