"""The app as gunicorn serves it (bind from PORT): limits are answered by the app, in JSON."""

from tests.server import gunicorn, request


def test_over_long_authorization_header_is_a_json_401_not_gunicorn_html(database_url):
    with gunicorn(database_url, workers=1) as base:
        status, body = request(
            "GET", f"{base}/users/me", headers={"Authorization": "Bearer " + "a" * 12000}
        )
        assert status == 401
        assert body["code"] == 401


def test_no_control_socket_at_the_path_every_instance_shares(database_url, tmp_path):
    # gunicorn's default control socket is $XDG_RUNTIME_DIR/gunicorn.ctl, one per user: a
    # second instance would take it over from the first. gunicorn.conf.py turns it off.
    runtime = {"XDG_RUNTIME_DIR": str(tmp_path)}
    with gunicorn(database_url, workers=1, **runtime) as first:
        with gunicorn(database_url, workers=1, **runtime) as second:
            assert request("GET", f"{first}/health")[0] == 200
            assert request("GET", f"{second}/health")[0] == 200
            assert not (tmp_path / "gunicorn.ctl").exists()
            assert list(tmp_path.iterdir()) == []
