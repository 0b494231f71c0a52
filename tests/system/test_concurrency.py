"""Races between worker processes are settled by the database, never by a 500."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from tests.factories import registration
from tests.server import gunicorn, request


def test_twenty_simultaneous_registrations_of_one_email(app, postgres_url):
    bodies = [registration(email="same.person@example.org") for _ in range(20)]
    with gunicorn(postgres_url, workers=4) as base:
        start = Barrier(len(bodies))

        def register(body):
            start.wait()
            return request("POST", f"{base}/auth/register", body)[0]

        with ThreadPoolExecutor(len(bodies)) as pool:
            statuses = sorted(pool.map(register, bodies))
    assert statuses == [201] + [409] * 19
