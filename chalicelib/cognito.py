"""Every call to the Cognito user pool, and the mapping of its errors to domain errors.

No Cognito error reaches a client as a 500: each known one becomes a 4xx, anything else (the
pool's own trouble) a 503."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.errors import (
    Conflict,
    EchomateError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)

log = logging.getLogger(__name__)

_BAD_CREDENTIALS = "incorrect email or password"


def field_error(field: str, reason: str) -> list[dict[str, str]]:
    return [{"field": field, "reason": reason}]


_ERRORS: dict[str, Callable[[str], EchomateError]] = {
    "UsernameExistsException": lambda m: Conflict(
        "email: already registered", field_error("email", "taken")
    ),
    "AliasExistsException": lambda m: Conflict(
        "email: already registered", field_error("email", "taken")
    ),
    "InvalidPasswordException": lambda m: Invalid(
        f"password: {m or 'does not meet the password policy'}", field_error("password", "policy")
    ),
    "CodeMismatchException": lambda m: Invalid(
        "code: incorrect code", field_error("code", "mismatch")
    ),
    "ExpiredCodeException": lambda m: Invalid(
        "code: expired or invalid; request a new one", field_error("code", "expired")
    ),
    "EnableSoftwareTokenMFAException": lambda m: Invalid(
        "code: incorrect code", field_error("code", "mismatch")
    ),
    "SoftwareTokenMFANotFoundException": lambda m: Invalid(
        "mfa: set up TOTP first (POST /auth/mfa/setup)", field_error("mfa", "not_set_up")
    ),
    "UserNotConfirmedException": lambda m: Forbidden(
        "account not confirmed: confirm it with the e-mailed code",
        [{"reason": "user_not_confirmed"}],
    ),
    "PasswordResetRequiredException": lambda m: Forbidden(
        "password reset required: use forgot-password", [{"reason": "password_reset_required"}]
    ),
    "NotAuthorizedException": lambda m: Unauthorized(_BAD_CREDENTIALS),
    "UserNotFoundException": lambda m: Unauthorized(_BAD_CREDENTIALS),
    "TooManyRequestsException": lambda m: RateLimited("too many requests; retry later", 30),
    "LimitExceededException": lambda m: RateLimited("too many attempts; retry later", 60),
    "TooManyFailedAttemptsException": lambda m: RateLimited("too many failed attempts", 300),
    "InvalidParameterException": lambda m: Invalid(f"invalid request: {m}".rstrip(": ")),
}


def cognito_error(code: str, message: str = "") -> EchomateError:
    """The domain error for a Cognito error code. Unknown codes are the service's problem
    (misconfiguration, Lambda triggers, outages): 503, never a 500."""
    make = _ERRORS.get(code)
    if make is None:
        log.error("unexpected Cognito error %s: %s", code, message)
        return Unavailable("the sign-in service is unavailable; retry later")
    return make(message)


def call(
    operation: str, overrides: Mapping[str, EchomateError] | None = None, **params: Any
) -> Any:
    """Call ``operation`` on the user pool's API, mapping every failure to a domain error."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(aws.client("cognito-idp"), operation)(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if overrides and code in overrides:
            raise overrides[code] from exc
        raise cognito_error(code, message) from exc
    except BotoCoreError as exc:
        bad = aws.bad_parameters(exc)  # botocore's own validation: the input, not the service
        if bad is not None:
            raise bad from exc
        log.exception("Cognito unreachable")
        raise Unavailable("the sign-in service is unavailable; retry later") from exc


def delete_user(email: str) -> None:
    from botocore.exceptions import ClientError

    try:
        aws.client("cognito-idp").admin_delete_user(
            UserPoolId=get_settings().user_pool_id, Username=email
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "UserNotFoundException":
            raise


def set_handle(email: str, handle: str) -> None:
    call(
        "admin_update_user_attributes",
        UserPoolId=get_settings().user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "preferred_username", "Value": handle}],
    )


def account_of(email: str) -> tuple[str, str] | None:
    """The (user id, status) of the account signed in as ``email``, None if there is none.
    Status is Cognito's: ``UNCONFIRMED``, ``CONFIRMED``, ``RESET_REQUIRED``, ..."""
    try:
        user = call("admin_get_user", UserPoolId=get_settings().user_pool_id, Username=email)
    except (Unauthorized, Invalid, NotFound):  # no such account
        return None
    attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
    sub = attributes.get("sub")
    return (sub, str(user.get("UserStatus", ""))) if sub else None
