"""Flask CLI: privacy rotate-key, purge and blind-index-key."""

from __future__ import annotations

import base64

import click
from flask import current_app
from flask.cli import AppGroup

from backend.privacy import purge, rotation
from backend.privacy.crypto import keyring

privacy_cli = AppGroup("privacy", help="Personal data at rest: key rotation and retention.")


@privacy_cli.command("rotate-key")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1))
def rotate_key(batch_size: int):
    """Re-encrypt every value not under DATA_ENCRYPTION_KEY (resumable; safe while serving)."""
    total = 0
    for batch in rotation.rotate(batch_size):
        total += batch.values
    left = sum(rotation.remaining().values())
    click.echo(f"re-encrypted {total} values under key {keyring().current_id}; {left} left")
    if left:
        raise click.ClickException(f"{left} values are still under another key")


@privacy_cli.command("purge")
@click.option("--older-than", "days", required=True, type=click.IntRange(min=0), help="Days")
def purge_closed(days: int):
    """Remove the personal data of accounts closed more than DAYS ago (safe from cron)."""
    click.echo(f"purged {purge.purge_closed(days)} closed accounts")


@privacy_cli.command("blind-index-key")
def blind_index_key():
    """Print BLIND_INDEX_KEY as in use now, for the env file before a data key rotation."""
    if current_app.config.get("BLIND_INDEX_KEY"):
        raise click.ClickException("BLIND_INDEX_KEY is already set")
    click.echo(f"BLIND_INDEX_KEY={base64.b64encode(keyring().blind_key).decode()}")
