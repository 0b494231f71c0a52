"""Marshmallow fields for the domain's own formats: national IDs, phone numbers, tidy text."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import phonenumbers
from flask import current_app
from marshmallow import ValidationError, fields, validate

from backend import clock
from backend.auth import policy

NID_SEPARATORS = re.compile(r"[\s-]+")


class Text(fields.String):
    """A string with surrounding whitespace removed, length-bounded, never empty unless allowed."""

    def __init__(self, *, max_length: int, min_length: int = 1, **kwargs):
        super().__init__(validate=validate.Length(min=min_length, max=max_length), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class NationalId(fields.String):
    """A national ID: digits only once spaces and dashes are removed, 8 to 20 of them."""

    def _deserialize(self, value, attr, data, **kwargs):
        digits = NID_SEPARATORS.sub("", super()._deserialize(value, attr, data, **kwargs))
        if not (digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 20):
            raise ValidationError("A national ID is 8 to 20 digits (spaces and dashes allowed).")
        return digits


class BirthDate(fields.Date):
    """A date of birth: not in the future, and not before 1900."""

    def _deserialize(self, value, attr, data, **kwargs):
        born = super()._deserialize(value, attr, data, **kwargs)
        if born > clock.utcnow().date() or born < date(1900, 1, 1):
            raise ValidationError("A date of birth is between 1900-01-01 and today.")
        return born


class PhoneNumber(fields.String):
    """A phone number, validated and stored in E.164 (the default region fills in local numbers)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if len(text) > 32:
            raise ValidationError("Not a valid phone number.")
        try:
            number = phonenumbers.parse(text, current_app.config["DEFAULT_PHONE_REGION"])
        except phonenumbers.NumberParseException:
            raise ValidationError("Not a valid phone number.") from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationError("Not a valid phone number.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(address: str) -> str:
    """An email as stored and looked up: NFKC, trimmed, lower-case, the domain in IDNA (ASCII).

    Full-width or ligature look-alikes become the plain letters they stand for, so they meet
    the same account. What still is not ASCII (a Cyrillic letter before the @, a domain IDNA
    cannot encode) is left so: it matches no stored address, and `Email` refuses it.
    """
    if address.isascii():  # nearly every address, and the sign-in hot path: no Unicode work
        return address.strip().lower()
    text = unicodedata.normalize("NFKC", address).strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local.isascii() or domain.isascii():
        return text
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return text


class Email(fields.Email):
    """An email address in its one stored form (see normalise_email), so uniqueness holds for
    letter case and Unicode look-alikes; the part before the @ must be ASCII."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Length(max=254), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = normalise_email(value)
            if not value.isascii():
                raise ValidationError(
                    "Not a valid email address: the part before the @ must be ASCII, and the"
                    " domain a valid (possibly international) domain name."
                )
        return super()._deserialize(value, attr, data, **kwargs)


class Password(fields.String):
    """A new password: 8 to 128 characters, not a common one, kept exactly as typed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("load_only", True)
        length = validate.Length(min=policy.MIN_LENGTH, max=policy.MAX_LENGTH)
        super().__init__(validate=[length, self._not_common], **kwargs)

    @staticmethod
    def _not_common(value: str) -> None:
        if policy.is_common(value):
            raise ValidationError(
                "This password is among the most common ones; choose a less guessable one."
            )
