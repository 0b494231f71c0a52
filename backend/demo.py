"""`flask demo seed`: bulk demo data with set-based SQL (a million registrations in seconds).

Adds to what is there: each run numbers its rows after the highest id already present, so two
runs (10,000 then 990,000 more registrations) give the same data as one run of 1,000,000.
Every seeded account shares one password (hashed once), given with --password.
Seeded history is pending, rejected or cancelled; approved doses need signed certificates,
which only the review API issues.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import func, insert, select, text

from backend import clock
from backend.auth.passwords import hash_password
from backend.extensions import db
from backend.models import Center, User, Vaccination, Vaccine
from backend.models.center import city_key
from backend.privacy.fields import index_of

demo_cli = AppGroup("demo", help="Demo and benchmark data.")

CITIES = 50
BATCH = 10_000
HISTORY = ("rejected", "cancelled")
YEAR_SECONDS = 365 * 24 * 3600


@demo_cli.command("seed")
@click.option("--users", default=1000, show_default=True, help="Citizen accounts to add")
@click.option("--vaccinations", default=1000, show_default=True, help="Registrations to add")
@click.option("--centers", default=100, show_default=True, help="Centers to add")
@click.option("--password", default="demo-password-2024", show_default=True)
def seed(users: int, vaccinations: int, centers: int, password: str) -> None:
    """Add citizens, centers and registrations (one pending per new citizen, the rest history)."""
    if (
        vaccinations
        and not (users or _count(User))
        or vaccinations
        and not (centers or _count(Center))
    ):
        raise click.ClickException("registrations need at least one citizen and one center")
    seeder = _seed_postgresql if db.engine.dialect.name == "postgresql" else _seed_batches
    seeder(users, vaccinations, centers, hash_password(password))
    db.session.commit()
    settle()
    click.echo(f"seeded {users} citizens, {centers} centers, {vaccinations} registrations")


def settle() -> None:
    """VACUUM ANALYZE after a bulk load (PostgreSQL), as autovacuum soon would: fresh statistics,
    and a visibility map, without which index-only scans (the bounded counts) visit the heap."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _seed_postgresql(users: int, vaccinations: int, centers: int, password_hash: str) -> None:
    """Citizens in batches (encrypted in Python); centers and registrations by generate_series."""
    # Bulk statements run for longer than the service's per-statement limit allows requests.
    db.session.execute(text("SET LOCAL statement_timeout = 0"))
    now = clock.utcnow()
    first_user, first_center = _next_id(User), _next_id(Center)
    params = {"now": now, "users": users, "centers": centers}
    # Personal fields are encrypted and indexed in Python (backend/privacy), so not in SQL.
    _insert_batches(User, _citizens(first_user, users, password_hash, now))
    db.session.execute(
        text(
            "INSERT INTO centers (id, name, city, city_key, address, active, created_at)"
            " SELECT n, 'Center ' || lpad(n::text, 6, '0'), 'City ' || lpad((n % :cities)::text,"
            " 2, '0'), 'city ' || lpad((n % :cities)::text, 2, '0'), n || ' Clinic Street',"
            " n % 20 <> 0, :now FROM generate_series(:first, :first + :centers - 1) AS n"
        ),
        {**params, "first": first_center, "cities": CITIES},
    )
    for table in ("users", "centers"):
        db.session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        )
    # The first `users` registrations belong one each to the new citizens; every third of those
    # is pending. The rest are history spread over all citizens and centers.
    db.session.execute(
        text(
            "INSERT INTO vaccinations (user_id, vaccine_id, center_id, dose_number, status,"
            " created_at)"
            " SELECT CASE WHEN i < :users THEN :first_user + i"
            "  ELSE u.lo + (i * 7919) % (u.hi - u.lo + 1) END,"
            " v.ids[1 + i % cardinality(v.ids)], c.lo + (i * 104729) % (c.hi - c.lo + 1), 1,"
            " CASE WHEN i < :users AND i % 3 = 0 THEN 'pending'"
            "  WHEN i % 2 = 0 THEN 'rejected' ELSE 'cancelled' END,"
            " :now - make_interval(secs => (i * 7) % :year)"
            " FROM generate_series(0::bigint, :vaccinations - 1) AS i,"
            " (SELECT min(id) AS lo, max(id) AS hi FROM users WHERE role_id = 1) AS u,"
            " (SELECT min(id) AS lo, max(id) AS hi FROM centers) AS c,"
            " (SELECT array_agg(id ORDER BY id) AS ids FROM vaccines) AS v"
        ),
        {
            **params,
            "first_user": first_user,
            "vaccinations": vaccinations,
            "year": YEAR_SECONDS,
        },
    )


def _seed_batches(users: int, vaccinations: int, centers: int, password_hash: str) -> None:
    """The same rows through executemany, BATCH at a time (SQLite has no generate_series)."""
    now = clock.utcnow()
    first_user, first_center = _next_id(User), _next_id(Center)
    _insert_batches(User, _citizens(first_user, users, password_hash, now))
    _insert_batches(
        Center,
        (
            {
                "id": n,
                "name": f"Center {n:06d}",
                "city": f"City {n % CITIES:02d}",
                "city_key": city_key(f"City {n % CITIES:02d}"),
                "address": f"{n} Clinic Street",
                "active": n % 20 != 0,
                "created_at": now,
            }
            for n in range(first_center, first_center + centers)
        ),
    )
    citizens = db.session.execute(
        select(func.min(User.id), func.max(User.id)).where(User.role_id == 1)
    ).one()
    known_centers = db.session.execute(select(func.min(Center.id), func.max(Center.id))).one()
    vaccine_ids = list(db.session.scalars(select(Vaccine.id).order_by(Vaccine.id)))

    def registration(i: int) -> dict:
        own = i < users
        user_id = (
            first_user + i if own else citizens[0] + (i * 7919) % (citizens[1] - citizens[0] + 1)
        )
        status = "pending" if own and i % 3 == 0 else HISTORY[i % 2]
        return {
            "user_id": user_id,
            "vaccine_id": vaccine_ids[i % len(vaccine_ids)],
            "center_id": known_centers[0]
            + (i * 104729) % (known_centers[1] - known_centers[0] + 1),
            "dose_number": 1,
            "status": status,
            "created_at": now - timedelta(seconds=(i * 7) % YEAR_SECONDS),
        }

    _insert_batches(Vaccination, (registration(i) for i in range(vaccinations)))


def _citizens(first: int, count: int, password_hash: str, now) -> Iterator[dict]:
    """Demo citizens' rows, personal fields encrypted (by their column types) and indexed."""
    for n in range(first, first + count):
        email, nid = f"demo{n}@example.org", f"9{n:012d}"
        yield {
            "id": n,
            "name": f"Demo Citizen {n}",
            "email": email,
            "email_index": index_of("email", email),
            "password_hash": password_hash,
            "role_id": 1,
            "address": f"{n} Demo Road",
            "nid": nid,
            "nid_index": index_of("nid", nid),
            "verified": n % 2 == 0,
            "token_version": 0,
            "created_at": now,
            "updated_at": now,
        }


def _insert_batches(model, rows) -> None:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            db.session.execute(insert(model), batch)
            batch = []
    if batch:
        db.session.execute(insert(model), batch)
