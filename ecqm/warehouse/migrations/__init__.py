"""Alembic migrations of the ecqm warehouse (run through ecqm.warehouse.migrate)."""
