"""Issue 10, points 8 and 9: each input the red-team pass turned into a 500 or a 503, as a class,
and the text rules (controls, bidi, invisible names, dotted handles, impossible timestamps).

Every case asserts a 4xx in Chalice's envelope naming the field, and that nothing changed."""

import json
import logging
from urllib.parse import quote

import pytest

from tests.factories import sign_up
from tests.support import call, pool_users, post, table_items


def _raw(client, method, path, token, raw, headers=None):
    """A request with ``raw`` as the body, byte for byte (json.dumps would escape it)."""
    all_headers = {"Authorization": token, "Content-Type": "application/json", **(headers or {})}
    return client.http.request(method, path, headers=all_headers, body=raw)


def _refused(response, field, status=400):
    assert response.status_code == status, (response.status_code, response.body)
    body = response.json_body
    assert set(body) >= {"Code", "Message"}
    fields = [d.get("field") for d in body.get("Details", [])]
    assert field in fields, (field, body)


def _tag_items():
    return [i for i in table_items() if i["PK"].startswith("TAG#")]


def _search_items(user_id=None):
    return [i for i in table_items() if i["SK"].startswith("SEARCH#")]


# 8. No 5xx on any input --------------------------------------------------------------------------
def test_hashtags_folding_to_one_key_are_one_tag(client, ana):
    created = call(client, "POST", "/posts", ana, {"caption": "#Café #cafe #CAFE #cafe\u0301 #hot"})
    assert created.status_code == 201, created.json_body
    assert created.json_body["hashtags"] == ["café", "hot"]
    assert len(_tag_items()) == 2
    post_id = created.json_body["postId"]
    # an edit that only changes the tag's accents or case keeps the one entry (no delete + put)
    edited = call(client, "PATCH", f"/posts/{post_id}", ana, {"caption": "#CAFE and #tea"})
    assert edited.status_code == 200, edited.json_body
    assert sorted(i["PK"] for i in _tag_items()) == ["TAG#cafe", "TAG#tea"]
    found = call(client, "GET", "/search/posts?tag=Café", ana).json_body["items"]
    assert [p["postId"] for p in found] == [post_id]


def test_tags_whose_fold_is_not_idempotent_are_one_entry_per_key(client, ana):
    # U+210C folds to "H" (the key keeps it), "#hot" to "hot": two keys, two entries, no 500
    caption = "#\u210cot #\u210cOT #hot #HOT #\u2460 #\u00aa"
    created = call(client, "POST", "/posts", ana, {"caption": caption})
    assert created.status_code == 201, created.json_body
    assert len(created.json_body["hashtags"]) == len(_tag_items())


def test_sign_up_name_folding_into_the_handle_is_one_search_entry(client, cognito):
    response = sign_up(client, "hana@example.com", "hana", name="\u210cana")
    assert response.status_code == 201, response.json_body
    terms = sorted(i["SK"] for i in _search_items())
    assert terms == ["SEARCH#hana"]


def test_renaming_into_a_folded_name_is_one_search_entry(client, ana):
    patched = call(client, "PATCH", "/me", ana, {"name": "\u210cANA"})
    assert patched.status_code == 200, patched.json_body
    assert call(client, "GET", "/users?q=ana", ana).json_body["items"][0]["username"] == "ana"


_DEEP_ROUTES = [("PATCH", "/me"), ("POST", "/posts"), ("POST", "/auth/login")]


def test_deep_json_is_a_400(client, ana):
    before = table_items()
    for depth in (17, 1000, 30_000):  # 30,000 deep is 60 KB, under the 64 KB body cap
        raw = '{"profile": ' + "[" * depth + "]" * depth + "}"
        for route in _DEEP_ROUTES:
            _refused(_raw(client, *route, ana, raw), "body")
    raw = "[" * 50_000 + "]" * 50_000  # over the cap: refused before it is even parsed
    assert _raw(client, "PATCH", "/me", ana, raw).status_code == 413
    assert table_items() == before


def test_documents_nest_at_most_six_levels(client, ana):
    deep: dict = {}
    for _ in range(7):
        deep = {"a": deep or 1}
    _refused(call(client, "PATCH", "/me", ana, {"settings": deep}), "settings.a.a.a.a.a.a")


def test_numbers_dynamodb_cannot_store_are_a_400(client, ana):
    """DynamoDB numbers: 38 significant digits, magnitude 1e-130 to under 1e126 (or 0)."""
    before = table_items()
    for number in ("NaN", "Infinity", "-Infinity"):  # refused by the parser
        response = _raw(client, "PATCH", "/me", ana, '{"settings": {"n": ' + number + "}}")
        _refused(response, "body")
    for number in ("1e400", "-1e400"):  # parsed as infinities, refused where they are
        response = _raw(client, "PATCH", "/me", ana, '{"settings": {"n": ' + number + "}}")
        _refused(response, "body.settings.n")
    for number in (
        "1e126",
        "-1e126",
        "1e-131",
        "1" * 39,
        "-" + "9" * 39,
        "1" + "0" * 50,
        "4.9e-324",
        "1e300",
    ):
        response = _raw(client, "PATCH", "/me", ana, '{"settings": {"n": ' + number + "}}")
        _refused(response, "settings.n")
    assert table_items() == before


def test_numbers_at_dynamodbs_limits_are_stored(client, ana):
    for number in ("1e125", "9.99e125", "1e-130", "-1e-130", "1" * 38, "-" + "9" * 38, "0.0"):
        response = _raw(client, "PATCH", "/me", ana, '{"settings": {"n": ' + number + "}}")
        assert response.status_code == 200, (number, response.json_body)
        assert response.json_body["settings"]["n"] == json.loads(number)


def test_lone_surrogates_are_a_400(client, ana):
    before = table_items()
    for raw, field in [
        ('{"profile": {"\\ud800": 1}}', "body.profile"),
        ('{"profile": {"k": "\\udfff"}}', "body.profile.k"),
        ('{"name": "A\\ud83d"}', "body.name"),
        ('{"settings": {"list": ["ok", "\\udc00"]}}', "body.settings.list[1]"),
    ]:
        _refused(_raw(client, "PATCH", "/me", ana, raw), field)
    _refused(_raw(client, "POST", "/posts", ana, '{"caption": "\\ud800"}'), "body.caption")
    assert table_items() == before


def test_a_surrogate_pair_is_one_character_and_fine(client, ana):
    response = _raw(client, "PATCH", "/me", ana, '{"profile": {"mood": "\\ud83d\\ude00"}}')
    assert response.status_code == 200
    assert response.json_body["profile"]["mood"] == "\U0001f600"


def test_odd_if_match_values_are_a_400(client, ana):
    odd = ["abc", "-1", "9" * 5000, "9" * 19, "\u00b2", '"1", "2"', '"', 'W/"x"', "1.5", "0x1"]
    for value in odd:
        response = call(client, "PATCH", "/me", ana, {"name": "X"}, {"If-Match": value})
        _refused(response, "If-Match")
    assert call(client, "GET", "/me", ana).json_body["name"] == "Ana"


def test_if_match_as_http_says(client, ana):
    """``*`` matches any current version; a quoted, weak or bare version is compared."""
    assert call(client, "PATCH", "/me", ana, {"name": "X"}, {"If-Match": "*"}).status_code == 200
    for version, value in enumerate(['"2"', 'W/"3"', "4", " 5 "], start=2):
        response = call(client, "PATCH", "/me", ana, {"name": f"X{version}"}, {"If-Match": value})
        assert response.status_code == 200, (value, response.json_body)
    stale = call(client, "PATCH", "/me", ana, {"name": "Y"}, {"If-Match": '"1"'})
    assert stale.status_code == 409


_HANDLES = [
    "\uff03ana",  # decoded, as API Gateway hands it to the function
    "%EF%BC%83ana",  # as chalice local hands it over
    "ana\uff03",
    "a" * 31,
    "a b",
    "\u0000",
]
_HANDLE_ROUTES = [
    ("GET", "/users/{}"),
    ("PUT", "/users/{}/follow"),
    ("DELETE", "/users/{}/follow"),
    ("GET", "/users/{}/posts"),
    ("GET", "/users/{}/followers"),
    ("GET", "/users/{}/following"),
]


def test_handles_outside_the_alphabet_in_a_path_are_a_404(client, ana):
    for handle in _HANDLES:
        for method, template in _HANDLE_ROUTES:
            _refused(call(client, method, template.format(handle), ana), "username", 404)


def test_ids_outside_the_alphabet_in_a_path_are_a_404(client, ana):
    for path in ("/posts/\uff03x", "/media/a%23b", "/posts/x/comments/\u0000"):
        response = call(client, "GET" if "comments" not in path else "DELETE", path, ana)
        assert response.status_code == 404, (path, response.body)


def test_a_short_mfa_session_is_a_400_naming_it(client, cognito, caplog):
    body = {"email": "ana@example.com", "session": "short", "code": "123456"}
    with caplog.at_level(logging.INFO):
        response = post(client, "/auth/mfa/challenge", body)
    _refused(response, "session")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_botocore_parameter_validation_is_a_400_not_a_503(cognito, caplog):
    """Whatever gets past the models to boto3 and is refused by botocore's own checks (here
    Cognito's 20-character minimum session) is bad input: a 400, logged as a warning."""
    from chalicelib import cognito as pool
    from chalicelib.errors import Invalid

    with caplog.at_level(logging.INFO), pytest.raises(Invalid) as raised:
        pool.call(
            "respond_to_auth_challenge",
            ClientId=cognito["client_id"],
            ChallengeName="SOFTWARE_TOKEN_MFA",
            Session="short",
            ChallengeResponses={"USERNAME": "a@example.com", "SOFTWARE_TOKEN_MFA_CODE": "1"},
        )
    assert raised.value.details[0]["parameter"] == "Session"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_botocore_parameter_validation_anywhere_is_a_400(client, ana, monkeypatch, caplog):
    """The same for a DynamoDB or S3 call under any route: one mapping, in app._handle."""
    from botocore.exceptions import ParamValidationError

    from chalicelib import users

    def refused(user_id):
        raise ParamValidationError(report="Invalid length for parameter Key.PK, value: 0")

    monkeypatch.setattr(users, "me", refused)
    with caplog.at_level(logging.INFO):
        response = call(client, "GET", "/me", ana)
    assert response.status_code == 400
    assert response.json_body["Details"][0]["parameter"] == "Key.PK"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_body_over_the_apps_limit_is_a_413(client, ana):
    raw = json.dumps({"caption": "x" * 70_000})
    assert _raw(client, "POST", "/posts", ana, raw).status_code == 413


# 9. Text hygiene ---------------------------------------------------------------------------------
_BAD_LINE = [
    "A\x00na",  # NUL
    "A\x07na",  # C0 (bell)
    "A\x85na",  # C1 (next line)
    "A\nna",  # a line feed in one-line text
    "A\u202ena",  # right-to-left override
    "A\u2066na\u2069",  # isolate
]
_INVISIBLE = ["   ", "\u200b", "\u200b\u200d\u2060", "\u3164", "\u00a0\u2003", "\ufeff"]


def test_names_refused_at_sign_up(client, cognito):
    for name in _BAD_LINE + _INVISIBLE:
        _refused(sign_up(client, "eve@example.com", "eve", name=name), "name")
    assert pool_users(cognito) == []
    assert not [i for i in table_items() if not i["PK"].startswith("RATE#")]


def test_names_refused_on_the_profile(client, ana):
    for name in _BAD_LINE + _INVISIBLE:
        _refused(call(client, "PATCH", "/me", ana, {"name": name}), "name")
    assert call(client, "GET", "/me", ana).json_body["name"] == "Ana"


def test_real_names_are_taken(client, ana):
    for name in ["Ana María", "\u0627\u0646\u0627", "Zoë \U0001f419", "李 娜", "a\u200db"]:
        assert call(client, "PATCH", "/me", ana, {"name": name}).status_code == 200, name


def test_handles_with_dots_first_last_or_doubled_are_refused(client, ana):
    for handle in ["...", "....", ".ana", "ana.", "an..a", "._."]:
        _refused(sign_up(client, "eve@example.com", handle), "username")
        _refused(call(client, "PUT", "/me/username", ana, {"username": handle}), "username")


def test_a_handle_with_single_inner_dots_is_taken(client, cognito):
    assert sign_up(client, "eve@example.com", "e.v.e").status_code == 201


@pytest.mark.parametrize(
    ("route", "field", "good", "bad"),
    [
        (("POST", "/posts"), "caption", "line one\n\tline two", ["\x00", "a\rb", "\u202e"]),
        (("PATCH", "/me"), "profile.bio", "line one\n\tline two", ["\x00", "\x1b[31m", "\u2067"]),
    ],
)
def test_multi_line_text_keeps_newlines_and_tabs_only(client, ana, route, field, good, bad):
    def body(text):
        return {"profile": {"bio": text}} if field == "profile.bio" else {field: text}

    assert call(client, *route, ana, body(good)).status_code in (200, 201)
    for text in bad:
        _refused(call(client, *route, ana, body(text)), field)


def test_comment_and_report_text_rules(client, ana, bob):
    post_id = call(client, "POST", "/posts", ana, {"caption": "hi"}).json_body["postId"]
    for path, field in (
        (f"/posts/{post_id}/comments", "text"),
        (f"/posts/{post_id}/report", "reason"),
    ):
        for text in ("\x00", "\u202ex", "\u200b\u200b", " \n "):
            _refused(call(client, "POST", path, bob, {field: text}), field)
    assert (
        call(client, "POST", f"/posts/{post_id}/comments", bob, {"text": "a\nb"}).status_code == 201
    )


def test_impossible_read_marks_are_refused(client, ana):
    for up_to in [
        "2026-13-01T00:00:00Z",  # month 13
        "2026-02-30T00:00:00Z",  # Feb 30
        "2025-02-29T00:00:00Z",  # not a leap year
        "2026-01-01T25:00:00Z",  # hour 25
        "2026-01-01T23:60:00Z",  # minute 60
        "2999-01-01T00:00:00Z",  # far in the future
        "\uff12026-01-01T00:00:00Z",  # a full-width digit (\\d would take it)
    ]:
        _refused(call(client, "POST", "/activity/read", ana, {"upTo": up_to}), "upTo")


def test_a_read_mark_now_is_taken(client, ana):
    from chalicelib import clock

    assert call(client, "POST", "/activity/read", ana, {"upTo": clock.now()}).status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "POST",
            "/media",
            {"contentType": "image/jpeg", "contentLength": "1000", "purpose": "post"},
            "contentLength",
        ),
        (
            "POST",
            "/media",
            {"contentType": "image/jpeg", "contentLength": 1000.0, "purpose": "post"},
            "contentLength",
        ),
        (
            "POST",
            "/media",
            {"contentType": "image/jpeg", "contentLength": True, "purpose": "post"},
            "contentLength",
        ),
        ("PUT", "/users/bob/mute", {"durationSeconds": "60"}, "durationSeconds"),
        ("GET", "/users?q=bo&limit=10.0", None, "limit"),
        ("GET", "/users?q=bo&limit=%2010", None, "limit"),
        ("GET", "/users?q=bo&limit=5&limit=6", None, "limit"),
        ("GET", "/feed?limit=1e1", None, "limit"),
    ],
)
def test_numbers_are_numbers_and_parameters_come_once(client, ana, bob, method, path, body, field):
    answer = call(client, method, path, ana, body)
    assert answer.status_code == 400, answer.json_body
    assert answer.json_body["Message"].startswith(field)
    assert call(client, "GET", "/me/mutes", ana).json_body["items"] == []


def test_a_no_content_answer_has_no_content_type(client, ana):
    made = call(client, "POST", "/posts", ana, {"caption": "x"}).json_body["postId"]
    answer = call(client, "DELETE", f"/posts/{made}", ana)
    assert answer.status_code == 204 and answer.body in (b"", "")
    assert "Content-Type" not in answer.headers and "content-type" not in answer.headers


def test_text_limits_count_code_points(client, ana):
    """2,200 emoji of one code point fit a caption; one more does not; a family emoji of five
    code points (three people joined by zero-width joiners) counts five."""
    ok = call(client, "POST", "/posts", ana, {"caption": "😀" * 2200})
    assert ok.status_code == 201
    assert call(client, "POST", "/posts", ana, {"caption": "😀" * 2201}).status_code == 400
    family = "👩\u200d👩\u200d👧"
    assert len(family) == 5
    fits = call(client, "POST", "/posts", ana, {"caption": family * 440})
    assert fits.status_code == 201
    assert call(client, "POST", "/posts", ana, {"caption": family * 441}).status_code == 400


def test_a_tag_comes_back_as_it_was_stored(client, ana):
    made = call(client, "POST", "/posts", ana, {"caption": "#İstanbul"}).json_body
    (tag,) = made["hashtags"]
    for spelling in (tag, "İstanbul", "ISTANBUL"):
        found = call(client, "GET", f"/search/posts?tag={quote(spelling)}", ana)
        assert found.status_code == 200, spelling
        assert [p["postId"] for p in found.json_body["items"]] == [made["postId"]]
