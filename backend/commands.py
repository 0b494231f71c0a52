"""Flask CLI: users create-admin, create-vaccinator and reset-mfa, prune, audit verify,
certificates rotate-key, reminders send, stats rebuild-tallies, privacy rotate-key and
purge."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from marshmallow import Schema, ValidationError, fields
from sqlalchemy.exc import IntegrityError

from backend import notify, reminders
from backend.audit import services as audit
from backend.auth import mfa, services
from backend.demo import demo_cli
from backend.demo_sessions import seed_sessions  # noqa: F401  (adds `demo sessions` to demo_cli)
from backend.errors import DomainError
from backend.extensions import db
from backend.privacy.commands import privacy_cli
from backend.staff import services as staff
from backend.stats import tallies
from backend.vaccination import certificates
from backend.validation import Email, NationalId, Password, PhoneNumber, Text

users_cli = AppGroup("users", help="Manage accounts.")


class AdminSchema(Schema):
    name = Text(required=True, max_length=120)
    email = Email(required=True)
    password = Password(required=True)
    nid = NationalId(load_default=None)
    phone_number = PhoneNumber(load_default=None)


@users_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--nid", default=None, help="National ID (optional for staff)")
@click.option("--phone", "phone_number", default=None, help="Phone number (optional)")
def create_admin(**options):
    """Create a health-officer (admin) account."""
    given = {key: value for key, value in options.items() if value is not None}
    try:
        fields = AdminSchema().load(given)
    except ValidationError as error:
        raise click.ClickException(f"invalid input: {error.messages}") from None
    try:
        user = services.create_admin(**fields)
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException("an account with this email or national ID exists") from None
    except DomainError as error:  # e.g. a family member already holds the national ID
        raise click.ClickException(error.message) from None
    click.echo(f"created admin {user.id} <{user.email}>")


class VaccinatorSchema(Schema):
    name = Text(required=True, max_length=120)
    email = Email(required=True)
    password = Password(required=True)
    center_id = fields.Integer(required=True, strict=True)
    nid = NationalId(required=True)


@users_cli.command("create-vaccinator")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--center-id", "center_id", required=True, type=int, help="The center they work at")
@click.option("--nid", required=True, help="Their own national ID")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_vaccinator(**options):
    """Create a vaccinator account attached to one center."""
    try:
        fields = VaccinatorSchema().load(options)
    except ValidationError as error:
        raise click.ClickException(f"invalid input: {error.messages}") from None
    try:
        user = staff.create_vaccinator(**fields, actor=None)
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException("an account with this email exists") from None
    except DomainError as error:  # an unknown or closed center
        raise click.ClickException(error.message) from None
    click.echo(f"created vaccinator {user.id} <{user.email}> at center {user.center_id}")


@users_cli.command("reset-mfa")
@click.option("--email", required=True)
def reset_mfa(email: str):
    """Turn two-factor sign-in off for a locked-out officer (audited); they enrol again."""
    user = mfa.reset(email)
    if user is None:
        raise click.ClickException(f"no open account with email {email}")
    click.echo(f"two-factor sign-in reset for user {user.id} <{user.email}>")


@click.command("prune")
@with_appcontext
def prune():
    """Delete sign-in sessions past their 90 days of history and spent or expired one-time
    codes (safe from cron)."""
    pruned_sessions, codes = services.prune_expired()
    click.echo(f"pruned {pruned_sessions} old sessions and {codes} spent or expired codes")


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def verify_audit():
    """Walk every audit chain; name the first row that breaks one (exit status 1).

    The heads printed when they hold are worth keeping outside the database: the key shows rows
    changed, but only an earlier head kept elsewhere shows a chain's newest rows cut off
    together with its head row moved back.
    """
    checked, broken = audit.verify_chain()
    if broken is None:
        live = {chain: head for chain, head in audit.heads().items() if head != audit.GENESIS_HASH}
        click.echo(f"audit chain intact: {checked} events in {len(live)} chains")
        for chain, head in sorted(live.items()):
            click.echo(f"chain {chain} head {head}")
    elif broken == -1:
        raise click.ClickException(f"audit chain broken: events after #{checked} were removed")
    else:
        raise click.ClickException(f"audit chain broken at event #{broken}")


certificates_cli = AppGroup("certificates", help="Certificate signing keys.")


@certificates_cli.command("rotate-key")
def rotate_key():
    """Print a new signing key and the retired public keys, current one added, for an env file."""
    signing_key, retired = certificates.rotated_key_settings()
    click.echo(f"CERT_SIGNING_KEY={signing_key}")
    click.echo(f"CERT_RETIRED_PUBLIC_KEYS={retired}")


reminders_cli = AppGroup("reminders", help="Reminders by email and SMS.")


@reminders_cli.command("send")
@click.option("--dry-run", is_flag=True, help="List what would be sent; send and record nothing.")
def send_reminders(dry_run: bool):
    """Send each reminder due (appointments tomorrow, doses due) once; safe from cron."""
    counted = 0
    for due in reminders.send_due(dry_run=dry_run):
        counted += 1
        if dry_run:
            click.echo(f"{due.kind} {due.key} to user {due.user_id}: {due.text}")
    notify.drain()  # queued deliveries finish before the command exits
    click.echo(f"{'would send' if dry_run else 'sent'} {counted} reminders")


stats_cli = AppGroup("stats", help="Dose statistics.")


@stats_cli.command("rebuild-tallies")
def rebuild_tallies():
    """Recount the dose tallies from the vaccinations, after doses were imported with SQL."""
    by_center, by_vaccine = tallies.rebuild()
    click.echo(f"dose tallies rebuilt: {by_center} center-days, {by_vaccine} vaccine-days")


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(certificates_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(stats_cli)
    app.cli.add_command(prune)
    app.cli.add_command(demo_cli)
    app.cli.add_command(privacy_cli)
