"""Integrity and visibility where content is read (issue 10, points 3 to 6 and the toggle rule of
point 11): media has one owner and one place, lists filter by who may see each item now,
moderators reach what is reported, and nothing of a deleted thing lingers."""

import time
from types import SimpleNamespace

import pytest

from chalicelib import (
    access,
    activity,
    feed,
    follows,
    interactions,
    media,
    posts,
    reports,
)
from chalicelib.entities import Media
from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.identity import Identity
from chalicelib.models import CommentIn, MediaRequestIn, PostIn, ReportIn
from tests.factories import BUCKET, jpeg, make_user, objects, ready_media, upload


def who(user_id, *groups):
    return Identity(
        user_id=user_id, username=None, email=None, groups=frozenset(groups), expires_at=0
    )


def post(author, caption="hello", visibility="public", media_ids=()):
    return posts.create_post(
        author, PostIn(caption=caption, visibility=visibility, media_ids=list(media_ids)), None
    )


@pytest.fixture
def people(store, stream):
    ana, bob, eve = make_user("ana"), make_user("bob"), make_user("eve")
    follows.follow(bob, "ana")  # bob follows ana
    stream.pump()
    return SimpleNamespace(ana=ana, bob=bob, eve=eve)


# 3. One media, one owner, one place ---------------------------------------------------------------
def test_media_in_a_post_cannot_go_into_a_second_one(people):
    media_id = ready_media(people.ana)
    post(people.ana, media_ids=[media_id])
    with pytest.raises(Invalid, match=r"no longer usable|not one of your ready"):
        post(people.ana, media_ids=[media_id])


def test_deleting_media_a_post_took_meanwhile_is_a_409_and_keeps_its_images(people, monkeypatch):
    media_id = ready_media(people.ana)
    stale = media.get_media(media_id)  # read before the post attached it
    made = post(people.ana, media_ids=[media_id])
    monkeypatch.setattr(media, "get_media", lambda _id: stale)
    with pytest.raises(Conflict, match="in use"):
        media.delete(people.ana, media_id)
    monkeypatch.undo()
    assert media.get_media(media_id).attached_to == f"post:{made.post_id}"
    assert [k for k in objects() if media_id in k]  # the renditions are still there


def test_a_post_cannot_take_media_deleted_meanwhile(people):
    media_id = ready_media(people.ana)
    media.delete(people.ana, media_id)
    with pytest.raises(Invalid):
        post(people.ana, media_ids=[media_id])


def test_the_pending_cap_is_a_counted_slot_given_back_on_every_way_out(people, monkeypatch):
    monkeypatch.setenv("MEDIA_MAX_PENDING", "2")
    from chalicelib import config

    config.get_settings.cache_clear()
    request = MediaRequestIn(content_type="image/jpeg", content_length=100, purpose="post")
    first, key = upload(people.ana, jpeg())
    second = media.request_upload(people.ana, request).media_id
    with pytest.raises(Conflict, match="too many unfinished uploads"):
        media.request_upload(people.ana, request)
    assert media.process_upload(BUCKET, key) == "ready"  # one slot back
    third = media.request_upload(people.ana, request).media_id
    media.delete(people.ana, second)  # another back
    media.request_upload(people.ana, request)
    with pytest.raises(Conflict, match="too many unfinished uploads"):
        media.request_upload(people.ana, request)
    media.request_upload(people.bob, request)  # another user's slots are their own
    # a day later, cleanup removes the two stale pending uploads (and the unattached photo)
    assert media.cleanup(now=time.time() + 2 * 86400) == 4  # bob's pending one too
    for gone in (first, third):
        with pytest.raises(NotFound):
            media.get_media(gone)
    media.request_upload(people.ana, request)  # their slots came back
    media.request_upload(people.ana, request)


# 4. Visibility where content is read --------------------------------------------------------------
def test_an_ex_follower_no_longer_sees_followers_only_posts_left_in_their_timeline(people, stream):
    secret = post(people.ana, "for followers", visibility="followers")
    stream.pump()  # fanned out into bob's timeline
    assert secret.post_id in [p.post_id for p in feed.feed(people.bob, 20, None).items]
    follows.unfollow(people.bob, "ana")  # the stream's unfill has not run (or missed it)
    assert secret.post_id not in [p.post_id for p in feed.feed(people.bob, 20, None).items]


def test_a_disabled_authors_post_is_gone_from_every_route(people, stream):
    made = post(people.ana)
    interactions.add_comment(people.bob, made.post_id, CommentIn(text="hi"))
    from chalicelib import users

    users.mark_disabled(users.get_profile(people.ana), people.eve)
    for read in (
        lambda: posts.get_post(people.bob, made.post_id),
        lambda: interactions.comments(people.bob, made.post_id, 20, None),
        lambda: interactions.likers(people.bob, made.post_id, 20, None),
        lambda: interactions.like(people.bob, made.post_id),
        lambda: interactions.add_comment(people.bob, made.post_id, CommentIn(text="x")),
        lambda: reports.report_post(people.bob, made.post_id, ReportIn(reason="x")),
    ):
        with pytest.raises(NotFound):
            read()


# 5. Moderators reach what is reported; one's own things stay one's own ----------------------------
def test_moderators_act_on_followers_only_posts_and_their_comments(people):
    made = post(people.ana, "for followers", visibility="followers")
    comment = interactions.add_comment(people.bob, made.post_id, CommentIn(text="hm"))
    reports.report_post(people.bob, made.post_id, ReportIn(reason="spam"))
    moderator = who(people.eve, "moderators")
    assert posts.get_post(people.eve, made.post_id, moderator=True).post_id == made.post_id
    with pytest.raises(NotFound):
        posts.get_post(people.eve, made.post_id)  # not as a plain user
    interactions.delete_comment(moderator, made.post_id, comment.comment_id)
    posts.delete_post(moderator, made.post_id)
    assert [e.action for e in _log()] == ["delete_comment", "delete_post"]


def _log():
    from chalicelib import clock, db, keys
    from chalicelib.entities import ModerationEntry

    partition = keys.moderation_log_pk(clock.month_bucket(clock.now()))
    return (
        db.get_store()
        .query_page(partition, limit=10, newest_first=False, model=ModerationEntry)
        .items
    )


def test_one_can_take_back_a_like_or_comment_on_a_post_one_no_longer_sees(people):
    made = post(people.ana, "for followers", visibility="followers")
    interactions.like(people.bob, made.post_id)
    comment = interactions.add_comment(people.bob, made.post_id, CommentIn(text="mine"))
    follows.unfollow(people.bob, "ana")
    with pytest.raises(NotFound):
        access.visible_post(people.bob, made.post_id)
    assert interactions.unlike(people.bob, made.post_id).liked is False
    interactions.delete_comment(who(people.bob), made.post_id, comment.comment_id)
    after = posts.get_post(people.ana, made.post_id)
    assert (after.like_count, after.comment_count) == (0, 0)
    with pytest.raises(NotFound):  # with nothing of theirs there, it is any unseen post
        interactions.unlike(people.eve, made.post_id)


# 6. Leftovers -------------------------------------------------------------------------------------
def test_a_second_upload_through_the_same_form_is_deleted(people):
    import boto3

    media_id, key = upload(people.ana, jpeg())
    assert media.process_upload(BUCKET, key) == "ready"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=jpeg(gps=True))
    assert media.process_upload(BUCKET, key) == "skipped"
    assert key not in objects()
    assert media.get_media(media_id).status == "ready"


def test_rejected_media_is_cleaned_up(people, store):
    media_id, key = upload(people.ana, b"not an image at all")
    assert media.process_upload(BUCKET, key).startswith("rejected")
    assert media.cleanup() == 0
    assert media.cleanup(now=time.time() + 2 * 86400) == 1
    assert store.get(Media.key_of(media_id), Media) is None


# 11. A toggle notifies once per actor and target within a window --------------------------------
def test_a_like_toggled_many_times_notifies_once(people, stream):
    made = post(people.ana)
    for _ in range(5):
        interactions.like(people.bob, made.post_id)
        stream.pump()
        interactions.unlike(people.bob, made.post_id)
    interactions.like(people.bob, made.post_id)
    stream.pump()
    likes = [a for a in activity.list_activity(people.ana, 50, None).items if a.type == "like"]
    assert len(likes) == 1
    assert activity.first_in_window(people.ana, "like", people.bob, made.post_id) is False
    later = time.time() + activity.REPEAT_WINDOW_SECONDS + 1
    assert activity.first_in_window(people.ana, "like", people.bob, made.post_id, now=later)


def test_moderation_queue_lists_reports(people):
    made = post(people.ana)
    reports.report_post(people.bob, made.post_id, ReportIn(reason="spam"))
    assert [r.reason for r in reports.queue("open", 10, None).items] == ["spam"]
