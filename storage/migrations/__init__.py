"""Alembic migrations of jitbot's schema (applied at start-up or with ``jitbot db upgrade``)."""
