"""HTTP API (FastAPI): sessions, challenges, uploads, results, queries."""
