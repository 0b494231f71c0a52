"""Masked personal values: the one place that decides what a non-owner sees of a person.

Answers to the person themselves use plain fields (the owner sees everything). Answers to anyone
else declare these fields instead: a national ID shows its last 4 characters, a phone its country
code and last 3 digits, a date of birth its year, an address nothing. An admin's audited reveal
(backend/privacy/services.py) wraps the record in `Revealed`, which these fields let through.
"""

from __future__ import annotations

import re
from datetime import date

from marshmallow import fields
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

NID_SHOWN = 4
PHONE_SHOWN = 3


class Revealed:
    """A person record an admin chose to see in full, with a recorded reason."""

    def __init__(self, person):
        self._person = person

    def __getattr__(self, name: str):
        return getattr(self._person, name)


def mask_nid(nid: str | None) -> str | None:
    """`*********4321`: every character but the last 4 replaced by `*`, same length."""
    return None if not nid else "*" * max(len(nid) - NID_SHOWN, 0) + nid[-NID_SHOWN:]


# Six or more digits (any script), up to two separators between them (spaces of any kind, dots,
# slashes, dashes): an ID or phone number however it is grouped. An ISO date is left alone.
LONG_NUMBER = re.compile(r"\d(?:[\s./\-\u2010-\u2015]{0,2}\d){5,}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def mask_numbers(text: str) -> str:
    """`text` with every long number masked as a national ID is (`caller gave *********6789`):
    free text an officer types, such as a reveal's reason, must not carry one into the audit
    trail, which is not encrypted."""
    return LONG_NUMBER.sub(_mask_unless_date, text)


def _mask_unless_date(number: re.Match) -> str:
    found = number.group()
    return found if ISO_DATE.fullmatch(found) else _mask_digits(found)


def _mask_digits(number: str) -> str:
    """Every digit but the last NID_SHOWN replaced by `*`; spaces and dashes kept."""
    digits = sum(character.isdigit() for character in number)
    masked, seen = [], 0
    for character in number:
        if character.isdigit():
            seen += 1
            character = character if seen > digits - NID_SHOWN else "*"
        masked.append(character)
    return "".join(masked)


def _country_code(phone: str) -> str:
    """The E.164 number's country code with its `+` ("+880"); country codes are prefix-free."""
    digits = phone.removeprefix("+")
    for length in (1, 2, 3):
        if digits[:length].isdigit() and int(digits[:length]) in COUNTRY_CODE_TO_REGION_CODE:
            return "+" + digits[:length]
    return "+" if phone.startswith("+") else ""


def mask_phone(phone: str | None) -> str | None:
    """`+880*******678`: the country code and last 3 digits kept, the rest `*`, same length."""
    if not phone:
        return None
    kept = _country_code(phone)
    hidden = max(len(phone) - len(kept) - PHONE_SHOWN, 0)
    return kept + "*" * hidden + phone[len(kept) + hidden :]


def birth_year(born: date | None) -> str | None:
    """Only the year of a date of birth ("1990")."""
    return None if born is None else f"{born.year:04d}"


class _Masked(fields.String):
    """A string field showing `mask(value)`, or the value itself for a `Revealed` record."""

    mask = staticmethod(lambda value: None)

    def __init__(self, **kwargs):
        super().__init__(dump_only=True, allow_none=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(obj, Revealed):
            shown = value.isoformat() if isinstance(value, date) else value
        else:
            shown = type(self).mask(value)
        return super()._serialize(shown, attr, obj, **kwargs)


class MaskedNid(_Masked):
    mask = staticmethod(mask_nid)

    def __init__(self, **kwargs):
        description = "Masked (`*********4321`) unless revealed"
        super().__init__(metadata={"description": description}, **kwargs)


class MaskedPhone(_Masked):
    mask = staticmethod(mask_phone)

    def __init__(self, **kwargs):
        description = "Masked (`+880*******678`) unless revealed"
        super().__init__(metadata={"description": description}, **kwargs)


class MaskedBirthDate(_Masked):
    mask = staticmethod(birth_year)

    def __init__(self, **kwargs):
        description = "The year only (`1990`) unless revealed (then `1990-05-17`)"
        super().__init__(metadata={"description": description}, **kwargs)


class WithheldAddress(_Masked):
    def __init__(self, **kwargs):
        super().__init__(metadata={"description": "null unless revealed"}, **kwargs)
