"""SMS notifications: the outbox's planning rules, the reminder sweep, and the sender with its providers.

Events (a reviewer's decision, a suspension, a resumption, a certification) queue rendered messages
in the ``notifications`` table through ``storage.repository.enqueue_notification``; this package adds
the reminders before a window closes and delivers what is queued (docs/notify.md).
"""
