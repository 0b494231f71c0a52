"""`flask reminders send`: appointments tomorrow and doses due, each sent once, by email and SMS."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.extensions import db
from backend.models import User
from tests.factories import make_dose

pytestmark = pytest.mark.usefixtures("long_lived_tokens")


def send(app, *args: str) -> list[str]:
    result = app.test_cli_runner().invoke(args=["reminders", "send", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


def first_dose(app, auth, *, days_ago: int, vaccine: str = "Pfizer", doses: int = 1) -> str:
    """A citizen with `doses` approved doses, the last given `days_ago`; their email."""
    user_id, _ = auth.citizen()
    with app.app_context():
        user = db.session.get(User, user_id)
        for number in range(doses):
            given = date.today() - timedelta(days=days_ago + 400 * (doses - 1 - number))
            make_dose(user, vaccine=vaccine, given=given)
        return user.email


def test_a_due_second_dose_is_sent_once_across_two_runs(app, auth, mailbox, sms):
    email = first_dose(app, auth, days_ago=60)
    assert send(app)[-1] == "sent 1 reminders"
    (message,) = mailbox.wait_for(email)
    assert "dose 2 of Pfizer is due" in message.get_payload(decode=True).decode()
    assert send(app)[-1] == "sent 0 reminders"
    assert len(mailbox.wait_for(email)) == 1


def test_reminders_go_by_sms_too(app, auth, sms):
    first_dose(app, auth, days_ago=60)
    send(app)
    assert any("is due since" in body["message"] for body in sms.received)


def test_a_dose_not_yet_due_is_not_reminded(app, auth, mailbox):
    first_dose(app, auth, days_ago=1)
    assert send(app)[-1] == "sent 0 reminders"


def test_a_booster_is_reminded_once_the_series_is_complete(app, auth, client, mailbox):
    with app.app_context():
        from backend.models import Vaccine

        db.session.query(Vaccine).filter_by(name="Pfizer").update({"booster_interval_days": 180})
        db.session.commit()
    email = first_dose(app, auth, days_ago=200, doses=2)
    assert send(app)[-1] == "sent 1 reminders"
    assert (
        "booster of Pfizer is due" in mailbox.wait_for(email)[0].get_payload(decode=True).decode()
    )


def test_a_complete_series_without_booster_is_not_reminded(app, auth, mailbox):
    first_dose(app, auth, days_ago=200, doses=2)
    assert send(app)[-1] == "sent 0 reminders"


def test_an_appointment_tomorrow_is_reminded_once(app, booking, mailbox, monkeypatch):
    tomorrow = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date() + timedelta(days=1)
    user_id, headers = booking.citizen()
    monkeypatch.setitem(app.config, "BOOKING_CUTOFF", None)
    appointment, _ = booking.booked(headers, date=tomorrow)
    with app.app_context():
        email = db.session.get(User, user_id).email
    assert send(app)[-1] == "sent 1 reminders"
    text = mailbox.wait_for(email)[0].get_payload(decode=True).decode()
    assert "is tomorrow" in text and appointment["code"] in text
    assert send(app)[-1] == "sent 0 reminders"


def test_a_dry_run_lists_and_sends_nothing(app, auth, mailbox):
    first_dose(app, auth, days_ago=60)
    listed = send(app, "--dry-run")
    assert listed[-1] == "would send 1 reminders" and listed[0].startswith("next_dose dose:")
    assert mailbox.messages == []
    assert send(app)[-1] == "sent 1 reminders"  # the dry run recorded nothing
