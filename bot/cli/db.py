"""``jitbot db upgrade``: schema migrations on ``DATABASE_URL``."""

from __future__ import annotations

import argparse

from bot.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``db`` and its ``upgrade`` subcommand."""
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_sub.add_parser("upgrade", help="apply schema migrations (also done at start)")
    db_upgrade.set_defaults(func=cmd_db_upgrade)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the migrations and print the revision before and after; exit 0."""
    from storage.db import current_revision, make_engine, upgrade

    settings = Settings()
    engine = make_engine(settings.database_url)
    before = current_revision(engine)
    upgrade(engine)
    print(
        f"database {engine.url.render_as_string(hide_password=True)}: "
        f"{before or 'empty'} -> {current_revision(engine)}"
    )
    return 0
