"""Storage: SQLAlchemy 2 typed models, Alembic migrations, queries, encryption at rest."""
