"""Domain rules: pure functions, no I/O, no framework imports.

Every rule of the trade (ID numbers, scope, the certification cycle, overdue and
back pay, the decision shown to the user) lives here, in one place.
"""
