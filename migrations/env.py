"""Alembic environment, run through Flask-Migrate (`flask db ...`)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
# Keep the application's own loggers alive when migrations run inside the app (tests, release).
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
engine = target_db.engine
config.set_main_option(
    "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def render_item(type_, obj, autogen_context):
    """Write our column types as what the database holds: a timezone-aware DateTime, and text
    for encrypted values (backend/privacy/fields.py)."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and type(obj).__name__ in ("EncryptedText", "EncryptedDate"):
        return "sa.Text()"
    return False


def process_revision_directives(context_, revision, directives):
    """Do not write an empty migration when the models have not changed."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("compare_type", True)
    # SQLite cannot ALTER most things; batch mode rebuilds tables there.
    conf_args.setdefault("render_as_batch", True)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # The service's statement timeout is for requests; building an index on a large
            # table at release time may take longer.
            connection.exec_driver_sql("SET statement_timeout = 0")
            connection.commit()  # a session setting; Alembic then runs its own transaction
        elif connection.dialect.name == "sqlite":
            # Batch mode rebuilds a table by copying it and dropping the old one, which SQLite's
            # foreign keys refuse while other tables' rows point at it; checked again below.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            render_item=render_item,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken:
                raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
