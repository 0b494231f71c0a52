"""GET /users/me, and the admin's GET /users and GET /users/<id>."""

import json
from datetime import date


def test_citizen_cannot_list_or_read_other_accounts(client, auth):
    other_id, _ = auth.citizen()
    _, headers = auth.citizen()
    assert client.get("/users", headers=headers).status_code == 403
    assert client.get(f"/users/{other_id}", headers=headers).status_code == 403


def test_admin_lists_accounts_with_pagination_header(client, auth):
    _, headers = auth.admin()
    for _ in range(3):
        auth.citizen()
    response = client.get("/users?page=1&page_size=2", headers=headers)
    assert response.status_code == 200
    assert len(response.get_json()) == 2
    pagination = json.loads(response.headers["X-Pagination"])
    assert pagination["total"] == 4 and pagination["total_pages"] == 2


def test_admin_filters_by_name_email_or_nid(client, auth):
    """Part of a name; the whole email or NID (encrypted: found by blind index only)."""
    _, headers = auth.admin()
    auth.citizen(name="Nusrat Jahan", email="nj@example.org", nid="5550001111")
    auth.citizen(name="Someone Else")
    for q in ("nusrat", "NJ@EXAMPLE.ORG", "5550001111"):
        found = client.get("/users", query_string={"q": q}, headers=headers).get_json()
        assert [user["name"] for user in found] == ["Nusrat Jahan"], q


def test_wildcards_in_q_are_literal(client, auth):
    _, headers = auth.admin()
    auth.citizen(name="Plain Name")
    assert client.get("/users?q=%25", headers=headers).get_json() == []


def test_page_size_above_100_is_refused(client, auth):
    _, headers = auth.admin()
    response = client.get("/users?page_size=101", headers=headers)
    assert response.status_code == 422


def test_admin_reads_one_account_or_gets_404(client, auth):
    _, headers = auth.admin()
    user_id, _ = auth.citizen(name="Read Me")
    assert client.get(f"/users/{user_id}", headers=headers).get_json()["name"] == "Read Me"
    assert client.get("/users/999999", headers=headers).status_code == 404
    assert client.get("/users/99999999999999999999", headers=headers).status_code == 404


def test_create_admin_command_makes_an_admin_who_can_sign_in(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create-admin",
            "--email",
            "Officer@Example.org",
            "--name",
            "Officer",
            "--password",
            "officer passphrase",
        ]
    )
    assert result.exit_code == 0, result.output
    token = client.post(
        "/auth/token", data={"username": "officer@example.org", "password": "officer passphrase"}
    ).get_json()["access_token"]
    me = client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["role_id"] == 2 and me["nid"] is None
    again = runner.invoke(
        args=[
            "users",
            "create-admin",
            "--email",
            "officer@example.org",
            "--name",
            "O",
            "--password",
            "officer passphrase",
        ]
    )
    assert again.exit_code != 0 and "exists" in again.output


def test_a_page_far_past_the_end_is_empty_not_an_error(client, auth):
    _, headers = auth.admin()
    response = client.get("/users?page=1000000000000000000000", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == []


def test_admin_search_finds_an_email_by_its_full_width_look_alike(client, auth):
    _, headers = auth.admin()
    auth.citizen(name="Nusrat Jahan", email="nj@example.org")
    found = client.get("/users", query_string={"q": "ｎｊ@ＥＸＡＭＰＬＥ.ｏｒｇ"}, headers=headers)
    assert [user["name"] for user in found.get_json()] == ["Nusrat Jahan"]


def test_owner_sets_the_date_of_birth_once(client, auth):
    _, headers = auth.citizen()
    response = client.patch("/users/me", json={"date_of_birth": "1990-05-17"}, headers=headers)
    assert response.status_code == 200
    assert client.get("/users/me", headers=headers).get_json()["date_of_birth"] == "1990-05-17"
    again = client.patch("/users/me", json={"date_of_birth": "1990-05-17"}, headers=headers)
    assert again.status_code == 200
    changed = client.patch("/users/me", json={"date_of_birth": "1991-05-17"}, headers=headers)
    assert changed.status_code == 422
    assert "date_of_birth" in changed.get_json()["errors"]["json"]


def test_admin_corrects_a_date_of_birth(client, auth):
    user_id, headers = auth.citizen(date_of_birth=date(1990, 5, 17))
    _, admin = auth.admin()
    response = client.patch(
        f"/users/{user_id}", json={"date_of_birth": "1990-07-15"}, headers=admin
    )
    assert response.status_code == 200
    assert client.get("/users/me", headers=headers).get_json()["date_of_birth"] == "1990-07-15"
