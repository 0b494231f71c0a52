"""Test helpers for the vaccination journey: centers, registrations and reviews over HTTP."""

from __future__ import annotations

from functools import cached_property

from tests.factories import make_center, vaccine_id


class Registry:
    """Drives the vaccination API as a citizen and as a health officer would."""

    def __init__(self, app, client, auth):
        self.app, self.client, self.auth = app, client, auth

    @cached_property
    def officer(self) -> dict:
        """Auth headers of an admin who registered nothing themselves."""
        return self.auth.admin(name="Officer On Duty")[1]

    @cached_property
    def default_center(self) -> int:
        return self.center(name="Dhaka Medical College", city="Dhaka")

    def center(self, **fields) -> int:
        with self.app.app_context():
            return make_center(**fields).id

    def vaccine(self, name: str = "Pfizer") -> int:
        with self.app.app_context():
            return vaccine_id(name)

    def register(self, headers: dict, *, vaccine: str = "Pfizer", **body):
        """POST /vaccinations for the account behind `headers`."""
        body.setdefault("center_id", self.default_center)
        body.setdefault("vaccine_id", self.vaccine(vaccine))
        return self.client.post("/vaccinations", json=body, headers=headers)

    def pending(self, headers: dict | None = None, **body) -> tuple[int, dict]:
        """A pending registration (of a new citizen unless `headers`) and its owner's headers."""
        headers = headers or self.auth.citizen()[1]
        response = self.register(headers, **body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"], headers

    def review(self, vaccination_id: int, action: str, headers: dict | None = None, **body):
        """POST /vaccinations/<id>/<action> as the officer (or `headers`)."""
        url = f"/vaccinations/{vaccination_id}/{action}"
        return self.client.post(url, json=body, headers=headers or self.officer)

    def approved(self, headers: dict | None = None, **body) -> tuple[int, dict]:
        """An approved registration with its certificate, and its owner's headers."""
        vaccination_id, headers = self.pending(headers, **body)
        response = self.review(vaccination_id, "approve")
        assert response.status_code == 200, response.get_json()
        return vaccination_id, headers

    def token(self, vaccination_id: int, headers: dict) -> str:
        """The signed certificate token, as its owner downloads it in JSON."""
        response = self.client.get(
            f"/vaccinations/{vaccination_id}/certificate",
            headers={**headers, "Accept": "application/json"},
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"]
