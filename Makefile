# The two commands of the README:
#   make run   — install everything, create demo data, serve on http://127.0.0.1:8000
#   make test  — install everything, start PostgreSQL/Redis if down, run the whole suite
.PHONY: run test lint bootstrap

bootstrap:
	bash scripts/bootstrap.sh

run: bootstrap
	.venv/bin/pensioncert demo --host 127.0.0.1 --port 8000

test: bootstrap
	bash scripts/services.sh
	.venv/bin/ruff check src tests
	.venv/bin/mypy
	.venv/bin/pytest -q

lint: bootstrap
	.venv/bin/ruff check src tests
	.venv/bin/mypy
