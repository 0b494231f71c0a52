"""Payloads of the auth blueprint: registration and the OAuth 2.0 password grant."""

from collections.abc import Mapping

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from backend.auth.policy import personal_problem
from backend.models import Role
from backend.validation import BirthDate, Email, NationalId, Password, PhoneNumber, Text


class RegisterSchema(Schema):
    name = Text(required=True, max_length=120)
    email = Email(required=True)
    password = Password(required=True)
    nid = NationalId(required=True, metadata={"description": "National ID, 8 to 20 digits"})
    phone_number = PhoneNumber(required=True, metadata={"description": "Stored in E.164"})
    address = Text(max_length=255, min_length=0, load_default=None, allow_none=True)
    date_of_birth = BirthDate(
        load_default=None, metadata={"description": "Optional here; needed before booking"}
    )
    # The prototype's web client sends role_id: 1; nothing else can be asked for here.
    role_id = fields.Integer(
        load_only=True,
        validate=validate.OneOf([Role.CITIZEN], error="Only citizen accounts can register."),
        metadata={"description": "Accepted for compatibility; must be 1 (citizen)"},
    )

    @validates_schema
    def password_is_not_personal(self, data, **kwargs):
        problem = personal_problem(
            data.get("password", ""), email=data.get("email"), nid=data.get("nid")
        )
        if problem:
            raise ValidationError(problem, field_name="password")


# Our extension grant (RFC 6749 §4.5) for the second step of a two-factor sign-in.
MFA_OTP_GRANT = "urn:vaccination:params:oauth:grant-type:mfa-otp"
NEEDED = {"password": ("username", "password"), MFA_OTP_GRANT: ("mfa_token", "otp")}


class TokenRequestSchema(Schema):
    """RFC 6749 §4.3 resource owner password credentials (client_id, scope... are ignored), or
    the mfa-otp extension grant: the `mfa_token` of an `mfa_required` answer and a code."""

    class Meta:
        unknown = EXCLUDE

    grant_type = fields.String(
        load_default="password",
        validate=validate.Length(min=1, max=64),
        metadata={"enum": ["password", MFA_OTP_GRANT]},
    )
    username = fields.String(
        validate=validate.Length(min=1, max=254),
        metadata={"description": "Email (password grant)"},
    )
    password = fields.String(
        validate=validate.Length(min=1, max=1024), metadata={"description": "Password grant"}
    )
    mfa_token = fields.String(
        validate=validate.Length(min=1, max=128),
        metadata={"description": "mfa-otp grant: from the `mfa_required` answer"},
    )
    otp = fields.String(
        validate=validate.Length(min=1, max=32),
        metadata={"description": "mfa-otp grant: the authenticator's code, or a recovery code"},
    )

    @validates_schema
    def grant_has_its_fields(self, data, **kwargs):
        for field in NEEDED.get(data.get("grant_type"), ()):
            if field not in data:
                raise ValidationError("Missing data for required field.", field_name=field)


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "bearer"})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds"})


class SignInSessionSchema(Schema):
    """A sign-in session (one access token) as its owner sees it."""

    id = fields.Integer()
    issued_at = fields.DateTime()
    last_seen_at = fields.DateTime(
        metadata={"description": "Coarse: updated at most once a minute"}
    )
    expires_at = fields.DateTime()
    client_address = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    current = fields.Boolean(metadata={"description": "The session making this request"})


class EndedSessionsSchema(Schema):
    ended = fields.Integer(metadata={"description": "How many live sessions were ended"})


class OAuthErrorSchema(Schema):
    """RFC 6749 §5.2 error body."""

    error = fields.String(
        required=True,
        metadata={
            "enum": ["invalid_request", "invalid_grant", "unsupported_grant_type", "mfa_required"]
        },
    )
    error_description = fields.String()


class MfaRequiredSchema(OAuthErrorSchema):
    """The password was right; now send a code with this token (the mfa-otp grant)."""

    mfa_token = fields.String(
        required=True, metadata={"description": "Single use, bound to the account, 5 minutes"}
    )


class PasswordProofSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class TotpCodeSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))


class TotpDisableSchema(PasswordProofSchema, TotpCodeSchema):
    """The password and a current code (or a recovery code)."""


class TotpEnrolmentSchema(Schema):
    secret = fields.String(metadata={"description": "Base32, for typing into the app"})
    otpauth_uri = fields.String()
    qr_png_base64 = fields.String(metadata={"description": "The URI as a QR code, PNG, base64"})


class RecoveryCodesSchema(Schema):
    recovery_codes = fields.List(
        fields.String(), metadata={"description": "Ten single-use codes, shown this once"}
    )


class EmailSchema(Schema):
    email = Email(required=True)


class CodeField(fields.String):
    """A one-time code as typed (a wrong one counts as a guess)."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Length(min=1, max=16), **kwargs)


class ResetCodeSchema(Schema):
    email = Email(required=True)
    code = CodeField(required=True)

    @pre_load
    def accept_prototype_name(self, data, **kwargs):
        """The prototype's web client sends the code as `code_from_user`."""
        if hasattr(data, "to_dict"):
            data = data.to_dict()
        if isinstance(data, Mapping) and "code_from_user" in data:
            data = dict(data)
            data.setdefault("code", data.pop("code_from_user"))
        return data


class ResetPasswordSchema(Schema):
    email = Email(required=True)
    code = CodeField(required=True)
    new_password = Password(required=True)

    @validates_schema
    def password_is_not_personal(self, data, **kwargs):
        problem = personal_problem(data.get("new_password", ""), email=data.get("email"), nid=None)
        if problem:
            raise ValidationError(problem, field_name="new_password")


class ConfirmCodeSchema(Schema):
    code = CodeField(required=True)


class MessageSchema(Schema):
    message = fields.String(required=True)
