import botocore.session
import pytest

from chalicelib import auth, cognito
from chalicelib.config import PASSWORD_POLICY
from chalicelib.errors import RateLimited
from devstack import template


def _cognito_error_codes():
    model = botocore.session.get_session().get_service_model("cognito-idp")
    return sorted({shape.name for shape in model.error_shapes})


@pytest.mark.parametrize("code", _cognito_error_codes())
def test_every_cognito_error_maps_to_a_client_answer_not_a_500(code):
    error = cognito.cognito_error(code, "message")
    status = error.STATUS_CODE
    assert 400 <= status < 500 or status == 503


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("UsernameExistsException", 409),
        ("InvalidPasswordException", 400),
        ("CodeMismatchException", 400),
        ("ExpiredCodeException", 400),
        ("UserNotConfirmedException", 403),
        ("NotAuthorizedException", 401),
        ("UserNotFoundException", 401),
        ("TooManyRequestsException", 429),
        ("LimitExceededException", 429),
        ("InternalErrorException", 503),
    ],
)
def test_cognito_error_rows(code, status):
    assert cognito.cognito_error(code).STATUS_CODE == status


def test_throttling_carries_a_retry_delay():
    error = cognito.cognito_error("TooManyRequestsException")
    assert isinstance(error, RateLimited) and error.retry_after > 0


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("Correct-Horse-9", []),
        ("Short1a", ["at least 10 characters"]),
        ("lowercase-only-1", ["an upper-case letter"]),
        ("NO-LOWER-CASE-1", ["a lower-case letter"]),
        ("No-Digits-Here", ["a digit"]),
        ("", ["at least 10 characters", "a lower-case letter", "an upper-case letter", "a digit"]),
    ],
)
def test_password_problems_name_each_rule(password, problems):
    assert auth.password_problems(password) == problems


def test_password_policy_is_the_user_pools():
    pool = template.load()["Resources"]["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]
    assert pool["MinimumLength"] == PASSWORD_POLICY.minimum_length
    assert pool["RequireLowercase"] == PASSWORD_POLICY.require_lowercase
    assert pool["RequireUppercase"] == PASSWORD_POLICY.require_uppercase
    assert pool["RequireNumbers"] == PASSWORD_POLICY.require_numbers
    assert pool["RequireSymbols"] == PASSWORD_POLICY.require_symbols
