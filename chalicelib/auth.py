"""Accounts on the Cognito user pool: sign-up, sign-in, tokens, passwords, TOTP MFA, disabling.

Every Cognito error is mapped to a domain error (``cognito_error``); none reaches the client as a
500. Wrong password and unknown account answer the same 401, and forgot-password and resend-code
always answer 202, so the API never tells whether an account exists. Abuse limits (``ratelimit``)
are counted per address and per account before Cognito is asked.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from chalicelib import clock, cognito, keys, ratelimit, sessions, users
from chalicelib.config import PASSWORD_POLICY, PasswordPolicy, get_settings
from chalicelib.errors import (
    Forbidden,
    Invalid,
    Unauthorized,
)
from chalicelib.identity import Identity
from chalicelib.models import (
    ChallengeOut,
    ChangePasswordIn,
    ConfirmIn,
    LoginIn,
    LoginOut,
    MeOut,
    MfaChallengeIn,
    MfaSetupOut,
    MfaStatusOut,
    ResetPasswordIn,
    SignupIn,
    SignupOut,
    TokensOut,
    UsernameIn,
)

log = logging.getLogger(__name__)

TOTP_ISSUER = "Echomate"


# Cognito errors --------------------------------------------------------------------------------


# Passwords -------------------------------------------------------------------------------------
def password_problems(password: str, policy: PasswordPolicy = PASSWORD_POLICY) -> list[str]:
    """The rules of ``policy`` that ``password`` breaks, in words (empty when it is fine)."""
    problems = []
    if len(password) < policy.minimum_length:
        problems.append(f"at least {policy.minimum_length} characters")
    if policy.require_lowercase and not any(c.islower() for c in password):
        problems.append("a lower-case letter")
    if policy.require_uppercase and not any(c.isupper() for c in password):
        problems.append("an upper-case letter")
    if policy.require_numbers and not any(c.isdigit() for c in password):
        problems.append("a digit")
    if policy.require_symbols and all(c.isalnum() or c.isspace() for c in password):
        problems.append("a symbol")
    return problems


def _check_password(password: str, field: str) -> None:
    problems = password_problems(password)
    if problems:
        raise Invalid(
            f"{field}: must contain {', '.join(problems)}",
            [{"field": field, "reason": "policy", "rule": p} for p in problems],
        )


#: an account not confirmed within this time is removed, freeing its e-mail and handle
#: (Cognito's confirmation codes are valid for 24 hours; a new one can be asked for meanwhile)
UNCONFIRMED_EXPIRE_SECONDS = 7 * 24 * 3600


# Flows -----------------------------------------------------------------------------------------
def sign_up(body: SignupIn, client_ip: str) -> SignupOut:
    """A new, unconfirmed account with its handle and profile; 409 if email or handle is taken.

    The handle is reserved first; if anything after that fails, what was made is undone, so
    neither the table nor the pool keeps an orphan.
    """
    _check_password(body.password, "password")
    ratelimit.hit("signup_ip", client_ip)
    settings = get_settings()
    reservation = users.reserve_handle(body.username)
    try:
        answer = cognito.call(
            "sign_up",
            ClientId=settings.app_client_id,
            Username=body.email,
            Password=body.password,
            UserAttributes=[
                {"Name": "email", "Value": body.email},
                {"Name": "name", "Value": body.name},
            ],
        )
    except Exception:
        users.release_handle(body.username, reservation)
        raise
    user_id = answer["UserSub"]
    try:
        # The handle travels in the ID token; clients may not write it, so the backend does.
        cognito.set_handle(body.email, body.username)
        users.create_profile(
            user_id,
            body.username,
            body.email,
            body.name,
            reservation,
            confirmed=bool(answer["UserConfirmed"]),
        )
    except Exception:
        _undo_sign_up(body.email, body.username, reservation)
        raise
    return SignupOut(user_id=user_id, username=body.username, confirmed=answer["UserConfirmed"])


def _undo_sign_up(email: str, handle: str, reservation: str) -> None:
    try:
        cognito.call("admin_delete_user", UserPoolId=get_settings().user_pool_id, Username=email)
    finally:
        users.release_handle(handle, reservation)


def confirm(body: ConfirmIn, client_ip: str) -> None:
    """Confirm the account with the e-mailed code (idempotent once confirmed)."""
    ratelimit.hit("code_ip", client_ip)
    ratelimit.hit("code_account", body.email)
    bad_code = Invalid("code: incorrect code", cognito.field_error("code", "mismatch"))
    try:
        cognito.call(
            "confirm_sign_up",
            {"UserNotFoundException": bad_code},
            ClientId=get_settings().app_client_id,
            Username=body.email,
            ConfirmationCode=body.code,
        )
    except Unauthorized as exc:  # NotAuthorized: already confirmed
        log.info("confirm on an account that cannot be confirmed: %s", exc.message)
    account = cognito.account_of(body.email)
    if account is not None and account[1] == "CONFIRMED":
        users.mark_confirmed(account[0])  # searchable and followable from now on


def resend_code(email: str, client_ip: str) -> None:
    """Send a new confirmation code. Always accepted: the answer reveals no account."""
    ratelimit.hit("code_ip", client_ip)
    settings = get_settings()
    if settings.stage in ("local", "test"):
        # No e-mail leaves the embedded stack and moto takes any code (its resend is a 500):
        # the cloud's visible effect, a new code, has nothing to do here.
        log.info("local stage: no confirmation code is sent; any code confirms")
        return
    try:
        cognito.call("resend_confirmation_code", ClientId=settings.app_client_id, Username=email)
    except (Unauthorized, Invalid):  # unknown or already-confirmed account
        return


def log_in(body: LoginIn, client_ip: str) -> LoginOut:
    """Tokens for email + password, or the TOTP challenge when MFA is on."""
    ratelimit.hit("login_ip", client_ip)
    ratelimit.hit("login_account", body.email)
    answer = cognito.call(
        "initiate_auth",
        ClientId=get_settings().app_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": body.email, "PASSWORD": body.password},
    )
    return _tokens_or_challenge(answer)


def answer_mfa(body: MfaChallengeIn, client_ip: str) -> TokensOut:
    """Tokens for the right TOTP code; 401 for a wrong one or an expired session."""
    ratelimit.hit("mfa_ip", client_ip)
    ratelimit.hit("mfa_account", body.email)
    wrong = Unauthorized("incorrect code or expired session; sign in again")
    # A session Cognito does not know is NotAuthorizedException ("Invalid session for the
    # user"); moto says ResourceNotFoundException. Either is the client's session, not an outage.
    unknown = {"NotAuthorizedException": wrong, "ResourceNotFoundException": wrong}
    answer = cognito.call(
        "respond_to_auth_challenge",
        {"CodeMismatchException": wrong, "ExpiredCodeException": wrong, **unknown},
        ClientId=get_settings().app_client_id,
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=body.session,
        ChallengeResponses={"USERNAME": body.email, "SOFTWARE_TOKEN_MFA_CODE": body.code},
    )
    result = _tokens_or_challenge(answer)
    if not isinstance(result, TokensOut):
        raise wrong
    return result


def refresh(refresh_token: str) -> TokensOut:
    """New ID and access tokens (no new refresh token). Refused once the account is disabled
    (Cognito would keep refreshing for a disabled user on moto: the app checks)."""
    revoked = Unauthorized("refresh token invalid, expired or revoked; sign in again")
    answer = cognito.call(
        "initiate_auth",
        {"NotAuthorizedException": revoked, "UserNotFoundException": revoked},
        ClientId=get_settings().app_client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )
    tokens = _tokens_or_challenge(answer)
    if not isinstance(tokens, TokensOut):
        raise revoked
    # The token comes straight from Cognito over TLS: reading its subject needs no verification.
    profile = users.find_profile(_unverified_claims(tokens.id_token).get("sub", ""))
    if profile is None or profile.disabled:
        raise Unauthorized("account disabled")
    return tokens


def forgot_password(email: str, client_ip: str) -> None:
    """Send a reset code if the account exists. Always accepted (no account enumeration)."""
    ratelimit.hit("forgot_ip", client_ip)
    ratelimit.hit("forgot_account", email)
    try:
        cognito.call("forgot_password", ClientId=get_settings().app_client_id, Username=email)
    except (Unauthorized, Invalid, Forbidden):  # unknown, unverified or unconfirmed account
        return


def reset_password(body: ResetPasswordIn, client_ip: str) -> None:
    """Set a new password with the e-mailed reset code."""
    _check_password(body.new_password, "newPassword")
    ratelimit.hit("code_ip", client_ip)
    ratelimit.hit("code_account", body.email)
    bad_code = Invalid("code: incorrect or expired code", cognito.field_error("code", "mismatch"))
    cognito.call(
        "confirm_forgot_password",
        {
            "UserNotFoundException": bad_code,
            "NotAuthorizedException": bad_code,
            "ResourceNotFoundException": bad_code,
        },
        ClientId=get_settings().app_client_id,
        Username=body.email,
        ConfirmationCode=body.code,
        Password=body.new_password,
    )
    # Whoever held the account may still hold its tokens: every session ends.
    pool = get_settings().user_pool_id
    cognito.call("admin_user_global_sign_out", UserPoolId=pool, Username=body.email)
    account = cognito.account_of(body.email)
    if account is not None:
        sessions.end_sessions(account[0])


def change_password(caller: Identity, body: ChangePasswordIn) -> None:
    """Change the caller's password (their access token and current password)."""
    _own_access_token(caller, body.access_token)
    _check_password(body.new_password, "newPassword")
    cognito.call(
        "change_password",
        {
            "NotAuthorizedException": Invalid(
                "oldPassword: incorrect password", cognito.field_error("oldPassword", "incorrect")
            )
        },
        PreviousPassword=body.old_password,
        ProposedPassword=body.new_password,
        AccessToken=body.access_token,
    )
    # Other devices are signed out (their ID tokens refused); this session goes on.
    sessions.end_sessions(caller.user_id, keeping=caller.session_id)


def log_out(caller: Identity, access_token: str) -> None:
    """Sign the caller out of every device: every refresh token stops working."""
    _own_access_token(caller, access_token)
    cognito.call("global_sign_out", AccessToken=access_token)
    sessions.end_sessions(caller.user_id, ending=caller.session_id)


def set_up_mfa(caller: Identity, access_token: str) -> MfaSetupOut:
    """A new TOTP secret for an authenticator app (MFA is on once verified)."""
    _own_access_token(caller, access_token)
    secret = cognito.call("associate_software_token", AccessToken=access_token)["SecretCode"]
    label = quote(f"{TOTP_ISSUER}:{caller.email or caller.user_id}")
    uri = f"otpauth://totp/{label}?secret={secret}&issuer={TOTP_ISSUER}&digits=6&period=30"
    return MfaSetupOut(secret=secret, otpauth_uri=uri)


def verify_mfa(caller: Identity, access_token: str, code: str) -> MfaStatusOut:
    """Check a code from the authenticator, then turn TOTP MFA on for sign-in."""
    _own_access_token(caller, access_token)
    ratelimit.hit("mfa_account", caller.user_id)
    wrong = Invalid("code: incorrect code", cognito.field_error("code", "mismatch"))
    answer = cognito.call(
        "verify_software_token",
        {"CodeMismatchException": wrong, "EnableSoftwareTokenMFAException": wrong},
        AccessToken=access_token,
        UserCode=code,
        FriendlyDeviceName="authenticator",
    )
    if answer.get("Status") != "SUCCESS":
        raise wrong
    _mfa_preference(access_token, enabled=True)
    return MfaStatusOut(mfa_enabled=True)


def disable_mfa(caller: Identity, access_token: str) -> None:
    """Turn TOTP MFA off (idempotent)."""
    _own_access_token(caller, access_token)
    _mfa_preference(access_token, enabled=False)


def change_username(caller: Identity, body: UsernameIn) -> MeOut:
    """The caller's handle becomes ``body.username`` (409 if taken; the same handle is a no-op).

    The new handle is reserved first, then written to the pool (ID tokens carry it from the next
    refresh), then bound in one transaction that frees the old one; a failure undoes the rest.
    """
    profile = users.get_profile(caller.user_id)
    handle = body.username
    if handle == profile.username:
        return users.me_view(profile)
    case_only = keys.handle_pk(handle) == keys.handle_pk(profile.username)
    reservation = None if case_only else users.reserve_handle(handle)
    try:
        ratelimit.hit("rename_account", caller.user_id)  # a taken handle costs no change
        cognito.set_handle(profile.email, handle)
        try:
            return users.rename(profile, handle, reservation)
        except Exception:
            cognito.set_handle(profile.email, profile.username)
            raise
    except Exception:
        if reservation is not None:
            users.release_handle(handle, reservation)
        raise


# Helpers ---------------------------------------------------------------------------------------
def _mfa_preference(access_token: str, *, enabled: bool) -> None:
    cognito.call(
        "set_user_mfa_preference",
        SoftwareTokenMfaSettings={"Enabled": enabled, "PreferredMfa": enabled},
        AccessToken=access_token,
    )


def _tokens_or_challenge(answer: Mapping[str, Any]) -> TokensOut | ChallengeOut:
    if answer.get("ChallengeName") == "SOFTWARE_TOKEN_MFA":
        return ChallengeOut(challenge="SOFTWARE_TOKEN_MFA", session=answer["Session"])
    result = answer.get("AuthenticationResult")
    if not result:
        raise Forbidden(
            f"sign-in needs a step this API does not offer ({answer.get('ChallengeName')})",
            [{"reason": "unsupported_challenge"}],
        )
    return TokensOut(
        id_token=result["IdToken"],
        access_token=result["AccessToken"],
        refresh_token=result.get("RefreshToken"),
        expires_in=result["ExpiresIn"],
    )


def _own_access_token(caller: Identity, access_token: str) -> None:
    # Cognito verifies the access token itself; this makes sure it is the caller's own.
    subject = _unverified_claims(access_token).get("sub")
    if subject != caller.user_id:
        raise Forbidden(
            "accessToken: not the caller's token", cognito.field_error("accessToken", "mismatch")
        )


def _unverified_claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise Invalid(
            "accessToken: not a token", cognito.field_error("accessToken", "malformed")
        ) from exc
    return claims if isinstance(claims, dict) else {}


# Unconfirmed accounts ----------------------------------------------------------------------------
def expire_unconfirmed(*, now: float | None = None, limit: int = 50) -> int:
    """Remove accounts left unconfirmed for ``UNCONFIRMED_EXPIRE_SECONDS`` (scheduled): the
    Cognito account, the profile, the handle and the search entries, so the e-mail and the
    handle are free again. Oldest first, ``limit`` a run. Returns how many went."""
    cutoff = clock.iso_timestamp((time.time() if now is None else now) - UNCONFIRMED_EXPIRE_SECONDS)
    removed = 0
    for profile in users.unconfirmed(limit):
        if profile.created_at >= cutoff:
            break
        account = cognito.account_of(profile.email)
        if account is not None and account[1] == "CONFIRMED":
            users.mark_confirmed(profile.user_id)  # confirmed, but not recorded: record it
            continue
        if account is not None:
            cognito.delete_user(profile.email)
        removed += users.remove_unconfirmed(profile)
    return removed
