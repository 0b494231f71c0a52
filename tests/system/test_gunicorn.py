"""The app as gunicorn serves it (bind from PORT): limits are answered by the app, in JSON."""

import pytest

from tests.server import gunicorn, request


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory):
    """The XDG_RUNTIME_DIR of this module's servers (gunicorn's default control socket dir)."""
    return tmp_path_factory.mktemp("runtime")


@pytest.fixture(scope="module")
def server(database_url, runtime_dir):
    """One gunicorn for the module: starting one costs seconds of CPU."""
    with gunicorn(database_url, workers=1, XDG_RUNTIME_DIR=str(runtime_dir)) as base:
        yield base


def test_over_long_authorization_header_is_a_json_401_not_gunicorn_html(server):
    status, body = request(
        "GET", f"{server}/users/me", headers={"Authorization": "Bearer " + "a" * 12000}
    )
    assert status == 401
    assert body["code"] == 401


def test_no_control_socket_at_the_path_every_instance_shares(database_url, server, runtime_dir):
    # gunicorn's default control socket is $XDG_RUNTIME_DIR/gunicorn.ctl, one per user: a
    # second instance would take it over from the first. gunicorn.conf.py turns it off.
    with gunicorn(database_url, workers=1, XDG_RUNTIME_DIR=str(runtime_dir)) as second:
        assert request("GET", f"{server}/health")[0] == 200
        assert request("GET", f"{second}/health")[0] == 200
        assert not (runtime_dir / "gunicorn.ctl").exists()
        assert list(runtime_dir.iterdir()) == []
