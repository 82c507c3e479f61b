"""What a browser on another origin meets on the embedded stack (devstack/local_api.py, the
bucket's CORS from infra/template.yaml): preflights answer 2xx for any path, every error carries
CORS headers so JS can read it, and renditions can be fetched from S3."""

import pytest
import requests

from tests.factories import jpeg, sign_up_and_log_in

ORIGIN = "http://127.0.0.1:9"


def preflight(url, method="GET", headers="authorization"):
    return requests.options(
        url,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
        timeout=10,
    )


def allows(response, origin=ORIGIN):
    """The answer lets JS on ``origin`` read it (the API's CORS allows any origin: "*")."""
    return response.headers.get("Access-Control-Allow-Origin") in ("*", origin)


@pytest.mark.parametrize(
    ("path", "method"),
    [("/no/such/route", "GET"), ("/posts/x/nothing", "DELETE"), ("/me", "GET")],
)
def test_preflight_answers_2xx_for_any_path(stack, path, method):
    response = preflight(f"{stack.api}{path}", method)
    assert 200 <= response.status_code < 300
    assert allows(response)
    assert method in response.headers["Access-Control-Allow-Methods"].split(",")
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_then_the_typod_route_is_a_readable_404(stack):
    response = requests.get(
        f"{stack.api}/no/such/route", headers={"Origin": ORIGIN, "Authorization": "x"}, timeout=10
    )
    assert response.status_code == 404 and allows(response)
    assert response.json()["Code"] == "NotFoundError"


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status"),
    [
        ("PATCH", "/health", {}, None, 405),  # chalice's own 405: no CORS headers before
        ("GET", "/me", {}, None, 401),
        ("POST", "/auth/login", {"Content-Type": "application/json"}, b"{", 400),
        ("POST", "/auth/login", {"Content-Type": "text/plain"}, b"x", 415),
        ("GET", "/users/nobody-at-all", {}, None, 401),
    ],
)
def test_every_error_carries_cors_headers(stack, method, path, headers, body, status):
    response = requests.request(
        method, f"{stack.api}{path}", headers={"Origin": ORIGIN, **headers}, data=body, timeout=10
    )
    assert response.status_code == status
    assert allows(response), response.headers
    assert set(response.json()) >= {"Code", "Message"}


def test_renditions_can_be_fetched_from_another_origin(stack):
    """The bucket's CORS allows GET and HEAD (the template's rule, applied by provisioning)."""
    from tests.e2e.stack import call
    from tests.e2e.test_upload_policy import media_state

    token = sign_up_and_log_in(stack, "cors@example.com", "corsfan")["idToken"]
    photo = jpeg(64, 48)
    _, answer = call(
        f"{stack.api}/media",
        "POST",
        token=token,
        body={"contentType": "image/jpeg", "contentLength": len(photo), "purpose": "post"},
    )
    form = answer["upload"]
    sent = requests.post(
        form["url"],
        data=form["fields"],
        files={"file": ("p.jpg", photo, "image/jpeg")},
        headers={"Origin": ORIGIN},
        timeout=10,
    )
    assert sent.status_code == 204 and allows(sent)
    assert media_state(stack, token, answer["mediaId"]) == "ready"
    url = call(f"{stack.api}/media/{answer['mediaId']}", token=token)[1]["renditions"]["thumb"]
    for method in ("GET", "HEAD"):
        check = preflight(url, method, headers="range")  # as a browser sends it: the full URL
        assert check.status_code == 200, (url, check.headers, check.text)
        assert method in check.headers["Access-Control-Allow-Methods"]
    fetched = requests.get(url, headers={"Origin": ORIGIN}, timeout=10)
    assert fetched.status_code == 200 and allows(fetched)
    assert fetched.headers["Content-Type"] == "image/jpeg"
