"""Encrypted column types and the blind indexes kept beside them.

Models declare `EncryptedText("users.nid")` or `EncryptedDate(...)`; services keep reading and
writing plain values. Each encrypted field that is looked up has a `<kind>_index` column,
kept in step by one flush hook, so no service has to remember it; lookups go through `index_of`.
"""

from __future__ import annotations

import re
from datetime import date

import phonenumbers
from flask import current_app
from sqlalchemy import Text, event, inspect
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from backend.privacy.crypto import keyring
from backend.validation import normalise_email

NID_SEPARATORS = re.compile(r"[\s-]+")
BLIND_INDEX_LENGTH = 64  # hex of HMAC-SHA256


class EncryptedText(TypeDecorator):
    """A text value stored as `kid:nonce:ciphertext`, bound to its `table.column`."""

    impl = Text
    cache_ok = True

    class Comparator(TypeDecorator.Comparator):
        """Only IS (NOT) NULL: equal values have different ciphertexts, so `==` would silently
        match nothing; lookups compare the blind index instead (`index_of`)."""

        def operate(self, op, *other, **kwargs):
            if op not in (operators.is_, operators.is_not):
                raise TypeError(f"{self.type.context} is encrypted: compare its blind index")
            return super().operate(op, *other, **kwargs)

    comparator_factory = Comparator

    def __init__(self, context: str):
        super().__init__()
        self.context = context

    def process_bind_param(self, value, dialect):
        return None if value is None else keyring().encrypt(self.dump(value), self.context)

    def process_result_value(self, value, dialect):
        return None if value is None else self.load(keyring().decrypt(value, self.context))

    def dump(self, value) -> str:
        return value

    def load(self, text: str):
        return text


class EncryptedDate(EncryptedText):
    """A date stored encrypted (ISO 8601 inside): SQL can no longer compare or compute on it."""

    cache_ok = True

    def dump(self, value: date) -> str:
        return value.isoformat()

    def load(self, text: str) -> date:
        return date.fromisoformat(text)


def normalise(kind: str, value: str) -> str:
    """A value as indexed: NID digits, a phone in E.164 (any accepted form), an email as stored."""
    if kind == "nid":
        return NID_SEPARATORS.sub("", value)
    if kind == "phone":
        try:
            number = phonenumbers.parse(value, current_app.config["DEFAULT_PHONE_REGION"])
        except phonenumbers.NumberParseException:
            return value.strip()
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return normalise_email(value)


def index_of(kind: str, value: str | None) -> str | None:
    """The blind index of `value` ("nid", "phone" or "email"), None for None."""
    return None if value is None else keyring().blind_index(kind, normalise(kind, value))


# Model -> {encrypted attribute: (index attribute, kind)}; filled by `indexed`.
INDEXED: dict[type, dict[str, tuple[str, str]]] = {}


def indexed(model: type, **fields: str) -> None:
    """Keep `<kind>_index` of `model` in step with each `field=kind` given, at every flush."""
    missing = [kind for kind in fields.values() if f"{kind}_index" not in model.__table__.c]
    if missing:
        raise ValueError(f"{model.__name__} has no index column for {missing}")
    INDEXED.setdefault(model, {}).update(
        {name: (f"{kind}_index", kind) for name, kind in fields.items()}
    )


@event.listens_for(Session, "before_flush")
def _refresh_indexes(session: Session, flush_context, instances) -> None:
    for instance in [*session.new, *session.dirty]:
        fields = INDEXED.get(type(instance))
        if not fields:
            continue
        state = inspect(instance)
        for name, (index_name, kind) in fields.items():
            history = state.attrs[name].history
            if instance in session.new or history.has_changes():
                setattr(instance, index_name, index_of(kind, getattr(instance, name)))
