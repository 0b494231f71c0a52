"""Flask CLI commands reuse the services: a service's refusal is a one-line error, not HTTP."""

MEMBER_NID = "20150000000000001"


def test_create_admin_with_a_member_nid_prints_the_services_message(app, client, auth):
    _, headers = auth.citizen()
    child = {"name": "Mitu", "date_of_birth": "2015-03-01", "relation": "child", "nid": MEMBER_NID}
    assert client.post("/users/me/members", json=child, headers=headers).status_code == 201
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "--email", "officer@example.org", "--name", "Officer"]
        + ["--password", "officer passphrase", "--nid", MEMBER_NID]
    )
    assert result.exit_code == 1
    assert result.output == "Error: Someone in the registry already has this national ID.\n"
    assert isinstance(result.exception, SystemExit)  # click's own exit, not a traceback
