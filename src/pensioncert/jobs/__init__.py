"""Background work: verification jobs, the overdue sweep, retention."""
