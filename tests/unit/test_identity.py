import pytest

from chalicelib.clock import iso_timestamp
from chalicelib.errors import Forbidden, Unauthorized
from chalicelib.identity import Identity, bearer_token

CLAIMS = {"sub": "u-1", "exp": 1795000000, "email": "a@example.com", "preferred_username": "ana"}


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        (["admins", "moderators"], {"admins", "moderators"}),
        ("[admins moderators]", {"admins", "moderators"}),  # API Gateway's string form
        ("admins,moderators", {"admins", "moderators"}),
        (None, set()),
        ("", set()),
    ],
)
def test_identity_reads_groups_in_every_form(groups, expected):
    identity = Identity.from_claims(CLAIMS | {"cognito:groups": groups})
    assert identity.groups == expected


def test_identity_without_sub_is_unauthorized():
    with pytest.raises(Unauthorized):
        Identity.from_claims({"exp": 1})


def test_require_group():
    identity = Identity.from_claims(CLAIMS | {"cognito:groups": ["moderators"]})
    identity.require_group("admins", "moderators")
    with pytest.raises(Forbidden, match="admins"):
        identity.require_group("admins")


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("abc.def.ghi", "abc.def.ghi"),
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer   abc", "abc"),
    ],
)
def test_bearer_prefix_is_optional(header, token):
    assert bearer_token({"authorization": header}) == token


@pytest.mark.parametrize("headers", [{}, {"authorization": ""}, {"authorization": "Bearer "}])
def test_missing_token_is_unauthorized(headers):
    with pytest.raises(Unauthorized, match="missing"):
        bearer_token(headers)


def test_iso_timestamp_is_utc_with_milliseconds():
    assert iso_timestamp(86400.5) == "1970-01-02T00:00:00.500Z"
