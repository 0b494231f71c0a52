"""SIGTERM lets requests in flight finish (gunicorn's graceful timeout)."""

import http.client
import signal
import time
import urllib.parse

from tests.server import gunicorn


def test_sigterm_lets_an_in_flight_request_finish(database_url, auth):
    auth.citizen(email="slow@example.org")
    body = urllib.parse.urlencode(
        {"username": "slow@example.org", "password": "correct horse battery"}
    ).encode()
    with gunicorn(database_url, workers=1) as server:
        port = int(server.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        connection.putrequest("POST", "/auth/token")
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        connection.send(body[:10])  # the worker is now inside the request, waiting for the rest
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        connection.send(body[10:])
        response = connection.getresponse()
        assert response.status == 200
        assert b"access_token" in response.read()
        assert server.process.wait(timeout=20) == 0
