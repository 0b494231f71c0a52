"""Routes of backend/vaccination/correction_routes.py."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

# --- Corrections: the holder asks, an admin decides; approval supersedes the certificate.


@pytest.fixture
def certificate(registry):
    """A holder's headers, the vaccination id and its certificate id."""
    _, headers = registry.auth.citizen(name="Nusrat Jahn")
    vaccination_id, _ = registry.approved(headers)
    return headers, vaccination_id, current_certificate(registry, vaccination_id, headers)["id"]


def current_certificate(registry, vaccination_id: int, headers: dict) -> dict:
    response = registry.client.get(
        f"/vaccinations/{vaccination_id}/certificate",
        headers={**headers, "Accept": "application/json"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return {"id": body["certificate_id"], "token": body["token"]}


def ask(client, certificate_id: str, headers: dict, **body):
    body.setdefault("reason", "My name is misspelt.")
    return client.post(f"/certificates/{certificate_id}/corrections", json=body, headers=headers)


def asked(client, certificate_id: str, headers: dict, **body) -> int:
    response = ask(client, certificate_id, headers, **body)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def review(client, correction_id: int, action: str, headers: dict, **body):
    return client.post(f"/corrections/{correction_id}/{action}", json=body, headers=headers)


def verify(client, token: str) -> dict:
    return client.post("/certificates/verify", json={"token": token}).get_json()


def test_a_request_is_pending_and_listed_for_admins(client, registry, certificate):
    headers, _, certificate_id = certificate
    response = ask(client, certificate_id, headers, name="Nusrat Jahan")
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending" and body["certificate_id"] == certificate_id
    listed = client.get("/corrections?status=pending", headers=registry.officer).get_json()
    assert [c["id"] for c in listed] == [body["id"]]
    assert client.get("/corrections?status=approved", headers=registry.officer).get_json() == []


def test_the_list_is_for_admins_only(client, certificate):
    headers, _, _ = certificate
    assert client.get("/corrections", headers=headers).status_code == 403


def test_approval_supersedes_the_old_certificate(client, registry, certificate):
    headers, vaccination_id, old_id = certificate
    old_token = current_certificate(registry, vaccination_id, headers)["token"]
    correction_id = asked(client, old_id, headers, name="Nusrat Jahan", date_of_birth="1990-04-02")
    response = review(client, correction_id, "approve", registry.officer)
    assert response.status_code == 200
    new_id = response.get_json()["new_certificate_id"]
    assert new_id and new_id != old_id
    old = verify(client, old_token)
    assert (old["valid"], old["reason"]) == (False, "revoked")
    assert (old["revoke_reason"], old["superseded_by"]) == ("superseded", new_id)
    new = current_certificate(registry, vaccination_id, headers)
    assert new["id"] == new_id
    claims = verify(client, new["token"])
    assert claims["valid"] is True
    assert (claims["holder"], claims["date_of_birth"]) == ("Nusrat Jahan", "1990-04-02")
    revoked = client.get("/certificates/revoked").get_json()
    assert {"certificate_id": old_id, "superseded_by": new_id}.items() <= revoked[0].items()


def test_the_pdf_after_approval_shows_the_corrected_name(client, registry, certificate):
    headers, vaccination_id, certificate_id = certificate
    correction_id = asked(client, certificate_id, headers, name="Nusrat Jahan")
    review(client, correction_id, "approve", registry.officer)
    with client.get(f"/vaccinations/{vaccination_id}/certificate", headers=headers) as response:
        text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "Nusrat Jahan" in text


def test_a_rejection_keeps_the_certificate(client, registry, certificate):
    headers, vaccination_id, certificate_id = certificate
    correction_id = asked(client, certificate_id, headers, name="Someone Else")
    response = review(client, correction_id, "reject", registry.officer, reason="No evidence.")
    assert response.status_code == 200
    assert response.get_json()["status"] == "rejected"
    current = current_certificate(registry, vaccination_id, headers)
    assert current["id"] == certificate_id
    assert verify(client, current["token"])["holder"] == "Nusrat Jahn"


def test_a_rejection_needs_a_reason(client, registry, certificate):
    headers, _, certificate_id = certificate
    correction_id = asked(client, certificate_id, headers, name="Nusrat Jahan")
    assert review(client, correction_id, "reject", registry.officer).status_code == 422


def test_a_decided_correction_cannot_be_decided_again(client, registry, certificate):
    headers, _, certificate_id = certificate
    correction_id = asked(client, certificate_id, headers, name="Nusrat Jahan")
    assert review(client, correction_id, "approve", registry.officer).status_code == 200
    assert review(client, correction_id, "approve", registry.officer).status_code == 409
    assert review(client, correction_id, "reject", registry.officer, reason="x").status_code == 409


def test_the_holder_never_reviews_their_own_correction(client, registry, auth):
    _, headers = auth.admin(name="Officer Karm")
    vaccination_id, _ = registry.approved(headers)
    certificate_id = current_certificate(registry, vaccination_id, headers)["id"]
    correction_id = asked(client, certificate_id, headers, name="Officer Karim")
    assert review(client, correction_id, "approve", headers).status_code == 403
    assert review(client, correction_id, "reject", headers, reason="x").status_code == 403


def test_citizens_cannot_review(client, registry, certificate):
    headers, _, certificate_id = certificate
    correction_id = asked(client, certificate_id, headers, name="Nusrat Jahan")
    assert review(client, correction_id, "approve", headers).status_code == 403


def test_someone_elses_certificate_is_not_found(client, registry, certificate):
    _, _, certificate_id = certificate
    _, stranger = registry.auth.citizen()
    assert ask(client, certificate_id, stranger, name="Mine Now").status_code == 404
    assert ask(client, "NOSUCHCERTIFICAT", stranger, name="Mine Now").status_code == 404


def test_a_request_names_something_to_correct(client, certificate):
    headers, _, certificate_id = certificate
    assert ask(client, certificate_id, headers).status_code == 422


def test_a_superseded_certificate_cannot_be_corrected_again(client, registry, certificate):
    headers, _, certificate_id = certificate
    review(client, asked(client, certificate_id, headers, name="A B"), "approve", registry.officer)
    assert ask(client, certificate_id, headers, name="C D").status_code == 409


def test_five_corrections_per_person_then_409(client, registry, certificate):
    headers, vaccination_id, certificate_id = certificate
    for attempt in range(5):
        correction_id = asked(client, certificate_id, headers, name=f"Nusrat Jahan {attempt}")
        response = review(client, correction_id, "approve", registry.officer)
        certificate_id = response.get_json()["new_certificate_id"]
    response = ask(client, certificate_id, headers, name="Nusrat Jahan")
    assert response.status_code == 409
    assert response.get_json()["reason"] == "correction_limit"


def test_rejected_corrections_do_not_count_against_the_limit(client, registry, certificate):
    headers, _, certificate_id = certificate
    for _ in range(5):
        correction_id = asked(client, certificate_id, headers, name="Nusrat Jahan")
        review(client, correction_id, "reject", registry.officer, reason="No evidence.")
    assert ask(client, certificate_id, headers, name="Nusrat Jahan").status_code == 202


def test_decisions_are_audited(client, registry, auth, certificate):
    headers, _, certificate_id = certificate
    correction_id = asked(client, certificate_id, headers, name="Nusrat Jahan")
    review(client, correction_id, "approve", registry.officer)
    admin = auth.admin()[1]
    events = client.get("/audit?event=correction.approved", headers=admin).get_json()
    assert [(e["subject_type"], e["subject_id"]) for e in events] == [("correction", correction_id)]


# --- Corrections of a member's certificate: the account holder asks, an admin approves.

MEMBER = {
    "name": "Rahima Khatun",
    "nid": "1960000000123",
    "date_of_birth": "1960-05-01",
    "relation": "parent",
}


@pytest.fixture
def member_dose(client, registry, booking):
    """A holder's headers, their member's id, the member's dose and its certificate."""
    _, headers = booking.citizen(name="Karim Uddin")
    added = client.post("/users/me/members", json=MEMBER, headers=headers)
    assert added.status_code == 201, added.get_json()
    member_id = added.get_json()["id"]
    booked = booking.book(headers, booking.session(), member_id=member_id)
    assert booked.status_code == 201, booked.get_json()
    vaccination_id = booked.get_json()["vaccination_id"]
    approved = registry.review(vaccination_id, "approve")
    assert approved.status_code == 200, approved.get_json()
    return (
        headers,
        member_id,
        vaccination_id,
        certificate_correction_routes(client, vaccination_id, headers),
    )


def certificate_correction_routes(client, vaccination_id: int, headers: dict) -> dict:
    url = f"/vaccinations/{vaccination_id}/certificate"
    response = client.get(url, headers={**headers, "Accept": "application/json"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ask_correction_routes(client, certificate_id: str, headers: dict, **body):
    body.setdefault("reason", "The name is misspelt.")
    return client.post(f"/certificates/{certificate_id}/corrections", json=body, headers=headers)


def approve(client, registry, correction_id: int):
    return client.post(f"/corrections/{correction_id}/approve", headers=registry.officer)


def test_the_holder_asks_for_a_members_certificate(client, member_dose):
    headers, member_id, _, old = member_dose
    response = ask_correction_routes(client, old["certificate_id"], headers, name="Rahima Khatoon")
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "pending"


def test_approval_supersedes_the_members_certificate(client, registry, member_dose):
    headers, member_id, vaccination_id, old = member_dose
    asked = ask_correction_routes(client, old["certificate_id"], headers, name="Rahima Khatoon")
    response = approve(client, registry, asked.get_json()["id"])
    assert response.status_code == 200, response.get_json()
    new_id = response.get_json()["new_certificate_id"]
    assert new_id != old["certificate_id"]
    before = verify(client, old["token"])
    assert (before["valid"], before["revoke_reason"]) == (False, "superseded")
    assert before["superseded_by"] == new_id
    new = certificate_correction_routes(client, vaccination_id, headers)
    assert new["certificate_id"] == new_id
    assert verify(client, new["token"])["holder"] == "Rahima Khatoon"


def test_approval_renames_the_member_not_the_holder(client, registry, member_dose):
    headers, member_id, _, old = member_dose
    asked = ask_correction_routes(client, old["certificate_id"], headers, name="Rahima Khatoon")
    approve(client, registry, asked.get_json()["id"])
    members = client.get("/users/me/members", headers=headers).get_json()
    assert [(m["id"], m["name"]) for m in members] == [(member_id, "Rahima Khatoon")]
    assert client.get("/users/me", headers=headers).get_json()["name"] == "Karim Uddin"


def test_a_member_and_the_holder_have_separate_limits(client, registry, member_dose):
    headers, _, _, old = member_dose
    for n in range(5):
        assert (
            ask_correction_routes(
                client, old["certificate_id"], headers, name=f"Rahima {n}"
            ).status_code
            == 202
        )
    refused = ask_correction_routes(client, old["certificate_id"], headers, name="Rahima 6")
    assert refused.status_code == 409
    own, _ = registry.approved(headers)
    mine = certificate_correction_routes(client, own, headers)["certificate_id"]
    assert ask_correction_routes(client, mine, headers, name="Karim Uddin Ahmed").status_code == 202


def test_someone_else_cannot_ask_for_a_members_certificate(client, registry, member_dose):
    _, _, _, old = member_dose
    stranger = registry.auth.citizen()[1]
    assert (
        ask_correction_routes(client, old["certificate_id"], stranger, name="Stranger").status_code
        == 404
    )
