"""Hardening over real HTTP on the embedded stack: sessions that end, a pending-upload cap that
holds under concurrent requests, limits a client can read."""

from concurrent.futures import ThreadPoolExecutor
from urllib.request import Request, urlopen

from tests.e2e.stack import call
from tests.factories import sign_up_and_log_in


def test_after_logout_every_token_of_the_account_is_refused(stack):
    api = stack.api
    tokens = sign_up_and_log_in(stack, "signedout@example.com", "signedout")
    status, fresh = call(
        f"{api}/auth/refresh", "POST", body={"refreshToken": tokens["refreshToken"]}
    )
    assert status == 200
    assert call(f"{api}/posts", "POST", tokens["idToken"], {"caption": "before"})[0] == 201
    out = call(
        f"{api}/auth/logout", "POST", tokens["idToken"], {"accessToken": tokens["accessToken"]}
    )
    assert out[0] == 204
    for token in (tokens["idToken"], fresh["idToken"]):
        for method, path, body in (
            ("GET", "/me", None),
            ("POST", "/posts", {"caption": "after"}),
            (
                "POST",
                "/media",
                {"contentType": "image/jpeg", "contentLength": 10, "purpose": "post"},
            ),
        ):
            status, error = call(f"{api}{path}", method, token, body)
            assert status == 401 and error["Code"] == "UnauthorizedError", (path, error)


def test_concurrent_upload_requests_never_pass_the_pending_cap(stack):
    tokens = sign_up_and_log_in(stack, "burst@example.com", "burst")
    body = {"contentType": "image/jpeg", "contentLength": 1000, "purpose": "post"}

    def ask(_):
        return call(f"{stack.api}/media", "POST", tokens["idToken"], body)[0]

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(ask, range(34)))
    assert statuses.count(201) == 20  # the local stage's cap (MEDIA_MAX_PENDING)
    assert statuses.count(409) == 14


def test_answers_say_where_the_caller_stands(stack):
    tokens = sign_up_and_log_in(stack, "meter@example.com", "meter")
    request = Request(f"{stack.api}/me", headers={"Authorization": tokens["idToken"]})
    with urlopen(request, timeout=10) as answer:
        headers = answer.headers
    assert int(headers["X-RateLimit-Limit"]) >= 5000  # the local stage is generous
    assert int(headers["X-RateLimit-Remaining"]) < int(headers["X-RateLimit-Limit"])
    assert int(headers["X-RateLimit-Reset"]) > 0
