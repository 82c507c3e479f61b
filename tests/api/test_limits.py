"""Abuse limits on every route: the API as a whole per account and per address, and each class
of write per account; 429 with Retry-After, X-RateLimit-* on every counted answer."""

import pytest

from tests.support import call, post, set_limits

# (route class, a request of that class for the user "ana" whose post is "{post}")
# Limits in these tests have day-long windows: three calls can never straddle a window boundary.
CLASSES = [
    ("posts", "POST", "/posts", {"caption": "hello"}),
    ("comments", "POST", "/posts/{post}/comments", {"text": "nice"}),
    ("likes", "PUT", "/posts/{post}/like", None),
    ("follows", "PUT", "/users/bob/follow", None),
    ("reports", "POST", "/posts/{post}/report", {"reason": "spam"}),
    (
        "media",
        "POST",
        "/media",
        {"contentType": "image/jpeg", "contentLength": 1000, "purpose": "post"},
    ),
    ("search", "GET", "/users?q=bo", None),
]


@pytest.fixture
def bobs_post(client, bob):
    return call(client, "POST", "/posts", bob, {"caption": "by bob"}).json_body["postId"]


def test_a_counted_answer_says_where_the_caller_stands(client, ana, monkeypatch):
    set_limits(monkeypatch, api_account="5/86400")
    first = call(client, "GET", "/me", ana)
    second = call(client, "GET", "/me", ana)
    assert first.status_code == second.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "5"
    assert first.headers["X-RateLimit-Remaining"] == "4"
    assert second.headers["X-RateLimit-Remaining"] == "3"
    assert int(first.headers["X-RateLimit-Reset"]) > 0


def test_the_api_limit_per_account_is_a_429_with_retry_after(client, ana, bob, monkeypatch):
    set_limits(monkeypatch, api_account="3/86400")
    statuses = [call(client, "GET", "/me", ana).status_code for _ in range(3)]
    refused = call(client, "GET", "/feed", ana)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json_body["Code"] == "TooManyRequestsError"
    assert 1 <= int(refused.headers["Retry-After"]) <= 86400
    assert refused.headers["X-RateLimit-Limit"] == "3"  # the limit that was reached
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert call(client, "GET", "/me", bob).status_code == 200  # another account is not held


def test_the_api_limit_per_address_holds_public_routes_too(client, cognito, monkeypatch):
    set_limits(monkeypatch, api_ip="2/86400")
    answers = [post(client, "/auth/forgot-password", {"email": "x@example.com"}) for _ in range(3)]
    assert [a.status_code for a in answers[:2]] == [202, 202]
    assert answers[2].status_code == 429 and "Retry-After" in answers[2].headers


def test_health_and_the_document_are_not_counted(client, monkeypatch):
    set_limits(monkeypatch, api_ip="1/86400")
    assert [client.http.get("/health").status_code for _ in range(3)] == [200, 200, 200]
    assert client.http.get("/openapi.json").status_code == 200


@pytest.mark.parametrize(("name", "method", "path", "body"), CLASSES)
def test_each_class_of_write_has_its_own_limit(
    client, ana, bobs_post, monkeypatch, name, method, path, body
):
    # Given a limit of 1 for this class only
    set_limits(monkeypatch, **{f"{name}_account": "1/86400"})
    path = path.format(post=bobs_post)
    # When the class's route is called twice
    first = call(client, method, path, ana, body)
    second = call(client, method, path, ana, body)
    # Then the second is refused as too many, and other classes still answer
    assert first.status_code < 400, first.json_body
    assert second.status_code == 429, second.json_body
    assert "Retry-After" in second.headers
    assert call(client, "GET", "/me", ana).status_code == 200


def test_every_class_names_a_configured_limit():
    import app
    from chalicelib.limits import DEFAULT_RATE_LIMITS, ROUTE_LIMITS

    assert {f"{c}_account" for c in ROUTE_LIMITS} <= set(DEFAULT_RATE_LIMITS)
    used = {spec.limit for spec in app.ROUTES if spec.limit}
    assert used == set(ROUTE_LIMITS)
    assert {c for c, *_ in CLASSES} == set(ROUTE_LIMITS)
