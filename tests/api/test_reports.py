"""Reports on posts, comments and users, and the moderation queue that resolves them."""

import pytest

from tests.factories import confirmed_user, log_in
from tests.support import StreamPump, call


def _in_group(client, cognito, email, group):
    cognito["idp"].admin_add_user_to_group(
        UserPoolId=cognito["pool_id"], Username=email, GroupName=group
    )
    return log_in(client, email).json_body["idToken"]


@pytest.fixture
def world(client, cognito):
    """bob posted and carl commented on it; mia moderates, ada administers."""
    bob = confirmed_user(client, "bob@example.com", "bob")["idToken"]
    carl = confirmed_user(client, "carl@example.com", "carl")["idToken"]
    dora = confirmed_user(client, "dora@example.com", "dora")["idToken"]
    confirmed_user(client, "mia@example.com", "mia")
    confirmed_user(client, "ada@example.com", "ada")
    mia = _in_group(client, cognito, "mia@example.com", "moderators")
    ada = _in_group(client, cognito, "ada@example.com", "admins")
    post = call(client, "POST", "/posts", bob, {"caption": "hm"}).json_body["postId"]
    comment = call(client, "POST", f"/posts/{post}/comments", carl, {"text": "ugh"}).json_body[
        "commentId"
    ]
    return {
        "bob": bob,
        "carl": carl,
        "dora": dora,
        "mia": mia,
        "ada": ada,
        "post": post,
        "comment": comment,
    }


def _queue(client, token, status="open"):
    answer = call(client, "GET", f"/admin/reports?status={status}", token)
    assert answer.status_code == 200, answer.json_body
    return answer.json_body["items"]


def _report_all(client, world, token):
    post, comment = world["post"], world["comment"]
    for path, body in (
        (f"/posts/{post}/report", {"reason": "spam"}),
        (f"/posts/{post}/comments/{comment}/report", {"category": "harassment"}),
        ("/users/carl/report", {"category": "hate", "details": "slurs in bio"}),
    ):
        answer = call(client, "POST", path, token, body)
        assert answer.status_code == 202, (path, answer.json_body)


def test_reports_on_a_post_a_comment_and_a_user_are_one_row_per_target(client, world):
    _report_all(client, world, world["dora"])
    _report_all(client, world, world["dora"])  # repeats are taken and add nothing
    rows = _queue(client, world["mia"])
    assert [(r["target"]["type"], r["category"], r["reportCount"]) for r in rows] == [
        ("user", "hate", 1),
        ("comment", "harassment", 1),
        ("post", "other", 1),
    ]
    user, comment, post = rows
    assert (post["postId"], post["reason"], post["reporter"]["username"]) == (
        world["post"],
        "spam",
        "dora",
    )
    assert (comment["target"]["id"], comment["target"]["postId"]) == (
        world["comment"],
        world["post"],
    )
    assert comment["target"]["owner"]["username"] == "carl"
    assert (user["reason"], user["postId"], user["status"]) == ("slurs in bio", None, "open")
    assert set(post) >= {"reportId", "createdAt", "latestAt", "status"}
    # a second reporter joins the case, and the row moves up with its latest report
    asked = call(
        client, "POST", f"/posts/{world['post']}/report", world["carl"], {"category": "nudity"}
    )
    assert asked.status_code == 202
    rows = _queue(client, world["mia"])
    assert (rows[0]["target"]["type"], rows[0]["reportCount"], rows[0]["category"]) == (
        "post",
        2,
        "nudity",
    )
    assert rows[0]["reporter"]["username"] == "carl"
    assert rows[0]["reportId"] == post["reportId"]  # the same case


def test_one_resolve_closes_every_report_on_the_target(client, world):
    post = world["post"]
    for reporter in ("dora", "carl"):
        call(client, "POST", f"/posts/{post}/report", world[reporter], {"category": "spam"})
    (row,) = _queue(client, world["mia"])
    done = call(
        client,
        "POST",
        f"/admin/reports/{row['reportId']}/resolve",
        world["mia"],
        {"action": "remove", "note": "spam ring"},
    )
    assert done.status_code == 200, done.json_body
    assert (done.json_body["status"], done.json_body["action"], done.json_body["note"]) == (
        "resolved",
        "remove",
        "spam ring",
    )
    assert _queue(client, world["mia"]) == []
    resolved = _queue(client, world["mia"], "resolved")
    assert [(r["reportCount"], r["action"]) for r in resolved] == [(2, "remove")]
    assert call(client, "GET", f"/posts/{post}", world["dora"]).status_code == 404
    StreamPump("echomate-test").pump()  # the post's removal job takes its reports with it
    assert _queue(client, world["mia"], "resolved")[0]["reportCount"] == 2  # the record stays
    again = call(
        client,
        "POST",
        f"/admin/reports/{row['reportId']}/resolve",
        world["mia"],
        {"action": "dismiss"},
    )
    assert again.status_code == 409 and again.json_body["Details"] == [{"reason": "resolved"}]


def test_a_report_after_a_resolution_opens_a_new_case(client, world):
    call(client, "POST", "/users/carl/report", world["dora"], {"category": "spam"})
    (row,) = _queue(client, world["mia"])
    resolved = call(
        client,
        "POST",
        f"/admin/reports/{row['reportId']}/resolve",
        world["mia"],
        {"action": "dismiss"},
    )
    assert resolved.status_code == 200
    call(client, "POST", "/users/carl/report", world["dora"], {"category": "spam"})
    (fresh,) = _queue(client, world["mia"])
    assert fresh["reportId"] != row["reportId"] and fresh["reportCount"] == 1


def test_disable_is_for_admins_and_disables_the_author(client, world):
    path = f"/posts/{world['post']}/comments/{world['comment']}/report"
    call(client, "POST", path, world["dora"], {"category": "violence"})
    (row,) = _queue(client, world["mia"])
    resolve = f"/admin/reports/{row['reportId']}/resolve"
    refused = call(client, "POST", resolve, world["mia"], {"action": "disable"})
    assert refused.status_code == 403
    assert _queue(client, world["mia"])[0]["status"] == "open"  # nothing changed
    done = call(client, "POST", resolve, world["ada"], {"action": "disable"})
    assert done.status_code == 200
    assert call(client, "GET", "/users/carl", world["dora"]).status_code == 404
    assert log_in(client, "carl@example.com").status_code in (400, 401, 403)


@pytest.mark.parametrize(
    ("who", "path", "body", "status"),
    [
        ("carl", "/users/carl/report", {"category": "spam"}, 400),  # oneself
        ("bob", "/posts/{post}/report", {"reason": "mine"}, 400),  # one's own post
        ("carl", "/posts/{post}/comments/{comment}/report", {"category": "spam"}, 400),
        ("dora", "/users/carl/report", {"category": "rude"}, 400),  # unknown category
        ("dora", "/users/carl/report", {}, 400),
        ("dora", "/users/carl/report", {"category": "spam", "details": "x" * 501}, 400),
        ("dora", "/posts/{post}/report", {}, 400),  # a reason or a category
        ("dora", "/posts/{post}/report", {"details": "no category"}, 400),
        ("dora", "/users/nobody/report", {"category": "spam"}, 404),
        ("dora", "/posts/{post}/comments/nope/report", {"category": "spam"}, 404),
        ("dora", "/posts/nope/report", {"category": "spam"}, 404),
    ],
)
def test_bad_reports_change_nothing(client, world, who, path, body, status):
    path = path.format(post=world["post"], comment=world["comment"])
    answer = call(client, "POST", path, world[who], body)
    assert answer.status_code == status, answer.json_body
    assert set(answer.json_body) >= {"Code", "Message"}
    assert _queue(client, world["mia"]) == []


@pytest.mark.parametrize(
    ("report_id", "body", "status"),
    [
        ("nope", {"action": "dismiss"}, 404),
        ("{id}", {"action": "ban"}, 400),
        ("{id}", {}, 400),
        ("{id}", {"action": "remove"}, 400),  # an account is disabled, not removed
        ("{id}", {"action": "dismiss", "note": "x" * 501}, 400),
    ],
)
def test_bad_resolutions_change_nothing(client, world, report_id, body, status):
    call(client, "POST", "/users/carl/report", world["dora"], {"category": "spam"})
    (row,) = _queue(client, world["mia"])
    path = f"/admin/reports/{report_id.format(id=row['reportId'])}/resolve"
    answer = call(client, "POST", path, world["mia"], body)
    assert answer.status_code == status, answer.json_body
    assert _queue(client, world["mia"]) == [row]


def test_only_moderators_see_and_resolve_reports(client, world):
    call(client, "POST", "/users/carl/report", world["dora"], {"category": "spam"})
    (row,) = _queue(client, world["mia"])
    assert call(client, "GET", "/admin/reports", world["dora"]).status_code == 403
    path = f"/admin/reports/{row['reportId']}/resolve"
    assert call(client, "POST", path, world["dora"], {"action": "dismiss"}).status_code == 403
    assert call(client, "GET", "/admin/reports?status=closed", world["mia"]).status_code == 400
    assert len(_queue(client, world["ada"])) == 1


def test_a_blocked_user_cannot_report_the_blocker_but_the_blocker_can(client, world):
    assert call(client, "PUT", "/users/dora/block", world["carl"]).status_code == 200
    refused = call(client, "POST", "/users/carl/report", world["dora"], {"category": "spam"})
    assert refused.status_code == 404
    taken = call(client, "POST", "/users/dora/report", world["carl"], {"category": "harassment"})
    assert taken.status_code == 202
    assert [r["target"]["owner"]["username"] for r in _queue(client, world["mia"])] == ["dora"]
