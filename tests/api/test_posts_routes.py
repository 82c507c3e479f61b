"""The post, interaction, activity and moderation routes over chalice.test.Client."""

import pytest

from tests.factories import log_in
from tests.support import call


def test_post_lifecycle(client, ana, bob):
    created = call(
        client,
        "POST",
        "/posts",
        ana,
        {"caption": "Hi #There", "mediaIds": []},
        {"Idempotency-Key": "abc-1"},
    )
    assert created.status_code == 201
    body = created.json_body
    assert set(body) == {
        "postId",
        "author",
        "caption",
        "hashtags",
        "mentions",
        "media",
        "visibility",
        "sensitive",
        "spoilerText",
        "likeCount",
        "commentCount",
        "likedByMe",
        "bookmarkedByMe",
        "version",
        "createdAt",
        "editedAt",
    }
    assert body["hashtags"] == ["there"] and body["visibility"] == "public"
    replay = call(
        client,
        "POST",
        "/posts",
        ana,
        {"caption": "Hi #There", "mediaIds": []},
        {"Idempotency-Key": "abc-1"},
    )
    assert replay.status_code == 201 and replay.json_body == body
    post_id = body["postId"]
    assert call(client, "PATCH", f"/posts/{post_id}", bob, {"caption": "x"}).status_code == 403
    edited = call(client, "PATCH", f"/posts/{post_id}", ana, {"caption": "edited"})
    assert edited.json_body["editedAt"] is not None
    liked = call(client, "PUT", f"/posts/{post_id}/like", bob)
    assert liked.json_body == {"liked": True, "likeCount": 1}
    comment = call(client, "POST", f"/posts/{post_id}/comments", bob, {"text": "great"})
    assert comment.status_code == 201 and comment.json_body["author"]["username"] == "bob"
    listed = call(client, "GET", f"/posts/{post_id}/comments", ana).json_body
    assert [c["text"] for c in listed["items"]] == ["great"]
    assert (
        call(client, "GET", f"/posts/{post_id}/likes", ana).json_body["items"][0]["username"]
        == "bob"
    )
    assert (
        call(
            client, "DELETE", f"/posts/{post_id}/comments/{comment.json_body['commentId']}", ana
        ).status_code
        == 204
    )
    assert call(client, "GET", "/users/ana/posts", bob).json_body["items"][0]["postId"] == post_id
    assert call(client, "DELETE", f"/posts/{post_id}", bob).status_code == 403
    assert call(client, "DELETE", f"/posts/{post_id}", ana).status_code == 204
    assert call(client, "GET", f"/posts/{post_id}", ana).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"caption": "x" * 2201}, 400, "caption"),
        ({"mediaIds": ["a"] * 11}, 400, "mediaIds"),
        ({"visibility": "friends"}, 400, "visibility"),
        ({"mediaIds": ["NOTMINE"]}, 400, "mediaIds"),
    ],
)
def test_bad_posts_are_refused(client, ana, body, status, field):
    response = call(client, "POST", "/posts", ana, body)
    assert response.status_code == status
    assert response.json_body["Message"].startswith(field)


def test_idempotency_key_reused_for_another_body_is_409(client, ana):
    call(client, "POST", "/posts", ana, {"caption": "one"}, {"Idempotency-Key": "k"})
    other = call(client, "POST", "/posts", ana, {"caption": "two"}, {"Idempotency-Key": "k"})
    assert other.status_code == 409


def test_lists_and_activity_routes(client, ana, bob):
    assert call(client, "GET", "/feed?limit=5", ana).json_body == {"items": [], "nextCursor": None}
    assert call(client, "GET", "/explore", ana).status_code == 200
    assert call(client, "GET", "/search/posts?tag=sun", ana).status_code == 200
    assert call(client, "GET", "/search/posts", ana).status_code == 400
    assert call(client, "GET", "/feed?cursor=forged", ana).status_code == 400
    assert call(client, "GET", "/activity", ana).json_body == {"items": [], "nextCursor": None}
    read = call(client, "POST", "/activity/read", ana, {"upTo": "2026-11-24T07:01:25.123Z"})
    assert read.status_code == 204
    assert call(client, "POST", "/activity/read", ana, {"upTo": "yesterday"}).status_code == 400


def test_reports_and_the_moderators_list(client, cognito, ana, bob):
    post_id = call(client, "POST", "/posts", ana, {"caption": "hm"}).json_body["postId"]
    assert (
        call(client, "POST", f"/posts/{post_id}/report", bob, {"reason": "spam"}).status_code == 202
    )
    assert (  # a repeat is taken and adds nothing
        call(client, "POST", f"/posts/{post_id}/report", bob, {"reason": "spam"}).status_code == 202
    )
    assert call(client, "GET", "/admin/reports", bob).status_code == 403
    cognito["idp"].admin_add_user_to_group(
        UserPoolId=cognito["pool_id"], Username="ana@example.com", GroupName="moderators"
    )
    moderator = confirmed_login(client)
    reports = call(client, "GET", "/admin/reports", moderator).json_body["items"]
    assert [(r["postId"], r["reporter"]["username"], r["reason"]) for r in reports] == [
        (post_id, "bob", "spam")
    ]


def confirmed_login(client):
    return log_in(client).json_body["idToken"]
