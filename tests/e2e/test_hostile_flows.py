"""Issue 10, points 8 and 9, as a client sees them over HTTP on the embedded stack: hostile
inputs are 4xx in the app's envelope, never a 5xx or a dropped connection."""

import json
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from tests import support
from tests.e2e.stack import call
from tests.factories import sign_up_and_log_in


def _raw(url, method, token, data, headers=None):
    """(status, JSON body) of a request whose body is sent byte for byte."""
    all_headers = {"Content-Type": "application/json", "Authorization": token, **(headers or {})}
    request = Request(url, data=data, headers=all_headers, method=method)
    try:
        with urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _fields(body):
    return [d.get("field") for d in body.get("Details", [])]


def test_hostile_inputs_over_http_are_4xx(stack):
    api = stack.api
    token = sign_up_and_log_in(stack, "hostile@example.com", "hostile")["idToken"]

    deep = b'{"profile": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    status, body = _raw(f"{api}/me", "PATCH", token, deep)
    assert status == 400 and "body" in _fields(body), body

    status, body = _raw(f"{api}/me", "PATCH", token, b'{"profile": {"k": "\\ud800"}}')
    assert status == 400 and _fields(body) == ["body.profile.k"], body

    status, body = _raw(f"{api}/me", "PATCH", token, b'{"settings": {"n": 1e400}}')
    assert status == 400, body
    status, body = _raw(f"{api}/me", "PATCH", token, b'{"settings": {"n": 1' + b"0" * 45 + b"}}")
    assert status == 400 and _fields(body) == ["settings.n"], body

    status, body = _raw(f"{api}/me", "PATCH", token, b'{"name": "x"}', {"If-Match": "9" * 400})
    assert status == 400 and _fields(body) == ["If-Match"], body

    # chalice local hands the path parameter over percent-encoded; API Gateway decodes it
    # (that form is tested through chalice.test.Client in tests/api/test_hostile_inputs.py)
    status, body = call(f"{api}/users/%EF%BC%83hostile", token=token)
    assert status == 404 and _fields(body) == ["username"], body

    caption = {"caption": "#Caf\u00e9 #cafe #CAFE"}
    status, body = call(f"{api}/posts", "POST", token, caption)
    assert status == 201 and body["hashtags"] == ["caf\u00e9"], body

    status, body = call(f"{api}/me", "PATCH", token, {"name": "\u202eevil"})
    assert status == 400 and _fields(body) == ["name"], body
    status, body = call(f"{api}/activity/read", "POST", token, {"upTo": "2026-02-30T00:00:00Z"})
    assert status == 400 and _fields(body) == ["upTo"], body

    mfa = {"email": "hostile@example.com", "session": "short", "code": "123456"}
    status, body = call(f"{api}/auth/mfa/challenge", "POST", body=mfa)
    assert status == 400 and _fields(body) == ["session"], body
    mfa["session"] = "s" * 40  # well-formed but unknown: the wrong-code answer, not a 503
    status, body = call(f"{api}/auth/mfa/challenge", "POST", body=mfa)
    assert status == 401, body

    status, me = call(f"{api}/me", token=token)
    assert status == 200 and me["name"] == "hostile" and me["profile"] == {}, me


def test_a_name_folding_into_the_handle_signs_up_over_http(stack):
    body = {
        "email": "hana@example.com",
        "password": support.PASSWORD,
        "username": "hana",
        "name": "\u210cana",
    }
    status, answer = call(f"{stack.api}/auth/signup", "POST", body=body)
    assert status == 201, answer
