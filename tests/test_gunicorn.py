"""The app as gunicorn serves it (bind from PORT): limits are answered by the app, in JSON."""

from tests.server import gunicorn, request


def test_over_long_authorization_header_is_a_json_401_not_gunicorn_html(database_url):
    with gunicorn(database_url, workers=1) as base:
        status, body = request(
            "GET", f"{base}/users/me", headers={"Authorization": "Bearer " + "a" * 12000}
        )
        assert status == 401
        assert body["code"] == 401
