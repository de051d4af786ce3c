"""``pensioncert demo``: seed a demo database (every registry case, one staff account per role) and
print the demo ID cards. It sits above the workflow, the jobs and the back office it seeds, next to
the CLI that runs it, so every import arrow of those packages keeps pointing down."""
