"""Posts, feed, likes, comments, activity and moderation on the table (moto in-process), with
the stream delivered to the app's handler as Lambda would."""

from types import SimpleNamespace

import boto3
import pytest

from chalicelib import (
    activity,
    feed,
    follows,
    interactions,
    jobs,
    keys,
    posts,
    reports,
    tasks,
    timelines,
    users,
)
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.identity import Identity
from chalicelib.models import CommentIn, PostIn, PostPatchIn, ReportIn
from tests.factories import jpeg, make_user, objects, ready_media, upload


def who(user_id, *groups):
    return Identity(
        user_id=user_id, username=None, email=None, groups=frozenset(groups), expires_at=0
    )


def post(author, caption="hello #World", visibility="public", media_ids=(), key=None):
    return posts.create_post(
        author, PostIn(caption=caption, visibility=visibility, media_ids=list(media_ids)), key
    )


def feed_ids(user_id):
    return [p.post_id for p in feed.feed(user_id, 50, None).items]


@pytest.fixture
def people(store, stream):
    ana, bob, eve = make_user("ana"), make_user("bob"), make_user("eve")
    follows.follow(bob, "ana")  # bob follows ana; eve follows no one
    stream.pump()
    return SimpleNamespace(ana=ana, bob=bob, eve=eve)


def all_items():
    return boto3.resource("dynamodb").Table("echomate-test").scan()["Items"]


# Creating --------------------------------------------------------------------------------------
def test_post_with_media_and_hashtags(people):
    media_id = ready_media(people.ana)
    view = post(people.ana, "Sunset at #Oslo with #oslo and #Fjord", media_ids=[media_id])
    assert view.hashtags == ["oslo", "fjord"]
    assert view.author.username == "ana" and view.like_count == 0 and view.edited_at is None
    assert view.media[0].media_id == media_id and view.media[0].renditions.large
    assert users.get_profile(people.ana).post_count == 1
    assert posts.get_post(people.bob, view.post_id).caption.startswith("Sunset")


def test_media_must_be_ones_own_ready_post_media(people):
    bobs = ready_media(people.bob)
    pending, _ = upload(people.ana, jpeg())
    for media_id in (bobs, pending, "NOSUCH"):
        with pytest.raises(Invalid, match="mediaIds"):
            post(people.ana, media_ids=[media_id])
    mine = ready_media(people.ana)
    with pytest.raises(Invalid, match="at most once"):
        post(people.ana, media_ids=[mine, mine])


def test_idempotency_key_replays_the_first_answer(people):
    first = post(people.ana, "once", key="k-1")
    again = post(people.ana, "once", key="k-1")
    assert again == first
    assert users.get_profile(people.ana).post_count == 1
    with pytest.raises(Conflict, match="Idempotency-Key"):
        post(people.ana, "a different body", key="k-1")
    assert post(people.bob, "once", key="k-1").post_id != first.post_id  # keys are per user


def test_edit_caption_moves_hashtags(people):
    view = post(people.ana, "#old tag")
    edited = posts.edit_post(people.ana, view.post_id, PostPatchIn(caption="#new tag"), None)
    assert edited.hashtags == ["new"] and edited.edited_at
    assert posts.search_tag(people.bob, "old", 10, None).items == []
    assert [p.post_id for p in posts.search_tag(people.bob, "NEW", 10, None).items] == [
        view.post_id
    ]
    with pytest.raises(Forbidden):
        posts.edit_post(people.bob, view.post_id, PostPatchIn(caption="mine now"), None)


# Visibility ------------------------------------------------------------------------------------
def test_followers_only_post_is_invisible_to_others_everywhere(people, stream):
    hidden = post(people.ana, "for friends #secret", visibility="followers")
    stream.pump()
    assert posts.get_post(people.bob, hidden.post_id).visibility == "followers"
    assert hidden.post_id in feed_ids(people.bob)
    for attempt in (
        lambda: posts.get_post(people.eve, hidden.post_id),
        lambda: interactions.likers(people.eve, hidden.post_id, 10, None),
        lambda: interactions.like(people.eve, hidden.post_id),
        lambda: interactions.comments(people.eve, hidden.post_id, 10, None),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert hidden.post_id not in feed_ids(people.eve)
    assert hidden.post_id not in [p.post_id for p in feed.explore(people.eve, 50, None).items]
    assert posts.search_tag(people.eve, "secret", 10, None).items == []
    assert [p.post_id for p in posts.user_posts(people.eve, "ana", 10, None).items] == []
    assert [p.post_id for p in posts.user_posts(people.bob, "ana", 10, None).items] == [
        hidden.post_id
    ]


# Feed ------------------------------------------------------------------------------------------
def test_feed_fan_out_backfill_and_unfollow(people, stream):
    first = post(people.ana, "first")
    stream.pump()
    assert feed_ids(people.bob) == [first.post_id]
    assert feed_ids(people.ana) == [first.post_id]  # own posts too
    follows.follow(people.eve, "ana")
    stream.pump()
    assert feed_ids(people.eve) == [first.post_id]  # backfilled
    follows.unfollow(people.eve, "ana")
    stream.pump()
    assert feed_ids(people.eve) == []
    posts.delete_post(who(people.ana), first.post_id)
    stream.pump()
    assert feed_ids(people.bob) == [] and feed_ids(people.ana) == []


def test_feed_pages_newest_first_in_three_requests(people, stream, dynamodb_calls):
    made = [post(people.ana, f"post {i}").post_id for i in range(5)]
    stream.pump()
    interactions.like(people.bob, made[3])
    feed.big_accounts()  # the instance's minute-long cache of big accounts is warm
    dynamodb_calls.clear()
    page = feed.feed(people.bob, 2, None)
    assert dynamodb_calls == ["Query", "BatchGetItem", "BatchGetItem"]
    rest = feed.feed(people.bob, 2, page.next_cursor)
    last = feed.feed(people.bob, 2, rest.next_cursor)
    assert [p.post_id for p in page.items + rest.items + last.items] == made[::-1]
    assert last.next_cursor is None
    assert [p.liked_by_me for p in page.items + rest.items] == [False, True, False, False]


def test_big_accounts_are_merged_at_read_time(people, stream, monkeypatch):
    monkeypatch.setenv("FANOUT_MAX_FOLLOWERS", "2")
    from chalicelib import config

    config.get_settings.cache_clear()
    monkeypatch.setattr(feed, "_big_cache", {"at": 0.0, "ids": []})
    follows.follow(people.eve, "ana")  # ana now has 2 followers: big
    stream.pump()
    assert feed.big_accounts() == [people.ana]
    celebrity_post = post(people.ana, "to millions")
    stream.pump()
    timeline = store_items(keys.timeline_pk(people.bob))
    assert celebrity_post.post_id not in timeline  # not fanned out...
    assert celebrity_post.post_id in feed_ids(people.bob)  # ...but merged in
    assert celebrity_post.post_id in feed_ids(people.eve)


def test_every_big_account_is_known_however_many_there_are(people, stream, monkeypatch):
    monkeypatch.setenv("FANOUT_MAX_FOLLOWERS", "1")
    from chalicelib import config

    config.get_settings.cache_clear()
    monkeypatch.setattr(feed, "_big_cache", {"at": 0.0, "ids": []})
    monkeypatch.setattr(feed, "_BIG_PAGE", 1)  # one account a page: three pages
    follows.follow(people.ana, "bob")
    follows.follow(people.ana, "eve")  # with bob's follow of ana, three accounts are big
    stream.pump()
    assert sorted(feed.big_accounts()) == sorted([people.ana, people.bob, people.eve])


def test_an_account_back_under_the_threshold_refills_its_followers_feeds(
    people, stream, monkeypatch
):
    # Given ana is big (threshold 4; back to small under 2) and posts while big
    monkeypatch.setenv("FANOUT_MAX_FOLLOWERS", "4")
    from chalicelib import config

    config.get_settings.cache_clear()
    monkeypatch.setattr(feed, "_big_cache", {"at": 0.0, "ids": []})
    fans = [make_user(handle) for handle in ("carl", "dan")]
    for fan in [people.eve, *fans]:
        follows.follow(fan, "ana")
    stream.pump()
    assert feed.big_accounts() == [people.ana]
    while_big = post(people.ana, "to millions", visibility="followers")
    stream.pump()
    assert while_big.post_id not in store_items(keys.timeline_pk(people.bob))
    # When three of her four followers leave (and the stream is delivered twice)
    for fan in [people.eve, *fans]:
        follows.unfollow(fan, "ana")
    stream.pump()
    monkeypatch.setattr(feed, "_big_cache", {"at": 0.0, "ids": []})
    # Then she is small again, and the post made while big is in bob's timeline and feed
    assert feed.big_accounts() == []
    assert while_big.post_id in store_items(keys.timeline_pk(people.bob))
    assert feed_ids(people.bob) == [while_big.post_id]
    refills = [i for i in all_items() if i.get("kind") == tasks.REFILL_FEEDS]
    assert [(j["userId"], j["status"]) for j in refills] == [(people.ana, "ready")]


def test_a_refill_out_of_time_continues_from_its_page(people, stream, monkeypatch):
    from chalicelib import db, jobs
    from chalicelib.jobs import refill

    monkeypatch.setattr(refill, "_PAGE", 1)
    fans = [make_user(handle) for handle in ("carl", "dan", "fay")]
    for fan in fans:
        follows.follow(fan, "ana")
    stream.pump()
    made = post(people.ana, "hello").post_id
    db.get_store().delete_listed(keys.timeline_pk(people.bob))  # as if never fanned out
    for fan in fans:
        db.get_store().delete_listed(keys.timeline_pk(fan))
    db.get_store().transact_write([tasks.job_op(tasks.REFILL_FEEDS, people.ana)])
    (job,) = [i for i in all_items() if i.get("kind") == tasks.REFILL_FEEDS]
    # A run that may do 3 steps (a Query of posts, two pages of followers) stops there
    assert jobs.run_job(job["jobId"], jobs.Budget(60, max_operations=3)) is False
    everyone = [people.bob, *fans]
    filled = [f for f in everyone if made in store_items(keys.timeline_pk(f))]
    assert len(filled) == 2
    for follower in filled:  # so that a restart from the first page would show
        db.get_store().delete_listed(keys.timeline_pk(follower))
    # The next run continues after those two pages
    assert jobs.run_job(job["jobId"], jobs.Budget(60)) is True
    refilled = [f for f in everyone if made in store_items(keys.timeline_pk(f))]
    assert sorted(refilled) == sorted(set(everyone) - set(filled))


def store_items(partition):
    return [i["SK"] for i in all_items() if i["PK"] == partition]


# Likes and comments ----------------------------------------------------------------------------
def test_likes_are_idempotent_and_counted_in_one_transaction(people, dynamodb_calls):
    view = post(people.ana)
    dynamodb_calls.clear()
    assert interactions.like(people.bob, view.post_id).like_count == 1
    assert dynamodb_calls.count("TransactWriteItems") == 1
    assert interactions.like(people.bob, view.post_id).like_count == 1
    assert interactions.like(people.eve, view.post_id).like_count == 2
    assert posts.get_post(people.bob, view.post_id).liked_by_me is True
    assert [u.username for u in interactions.likers(people.ana, view.post_id, 10, None).items] == [
        "bob",
        "eve",
    ] or len(interactions.likers(people.ana, view.post_id, 10, None).items) == 2
    assert interactions.unlike(people.bob, view.post_id).like_count == 1
    assert interactions.unlike(people.bob, view.post_id).like_count == 1
    assert posts.get_post(people.ana, view.post_id).like_count == 1


def test_comments_oldest_first_and_who_may_delete(people, dynamodb_calls):
    view = post(people.ana)
    dynamodb_calls.clear()
    first = interactions.add_comment(people.bob, view.post_id, CommentIn(text="nice"))
    assert dynamodb_calls.count("TransactWriteItems") == 1
    second = interactions.add_comment(people.eve, view.post_id, CommentIn(text="wow"))
    listed = interactions.comments(people.ana, view.post_id, 10, None).items
    assert [c.comment_id for c in listed] == [first.comment_id, second.comment_id]
    assert posts.get_post(people.ana, view.post_id).comment_count == 2
    with pytest.raises(Forbidden):
        interactions.delete_comment(who(people.eve), view.post_id, first.comment_id)
    interactions.delete_comment(who(people.bob), view.post_id, first.comment_id)  # its author
    interactions.delete_comment(
        who(people.ana), view.post_id, second.comment_id
    )  # the post's author
    third = interactions.add_comment(people.bob, view.post_id, CommentIn(text="again"))
    interactions.delete_comment(who(people.eve, "moderators"), view.post_id, third.comment_id)
    assert posts.get_post(people.ana, view.post_id).comment_count == 0
    with pytest.raises(NotFound):
        interactions.delete_comment(who(people.bob), view.post_id, first.comment_id)


# Activity --------------------------------------------------------------------------------------
def test_notifications_for_others_actions_only(people, stream):
    view = post(people.ana)
    interactions.like(people.ana, view.post_id)  # own like: no notification
    interactions.like(people.bob, view.post_id)
    interactions.add_comment(people.bob, view.post_id, CommentIn(text="hi"))
    follows.follow(people.eve, "ana")
    stream.pump()
    stream.pump()  # redelivery: the same items, no duplicates
    items = activity.list_activity(people.ana, 20, None).items
    assert [(a.type, a.actor.username) for a in items] == [
        ("follow", "eve"),
        ("comment", "bob"),
        ("like", "bob"),
        ("follow", "bob"),  # from the fixture
    ]
    assert not any(a.read for a in items)
    activity.mark_read(people.ana, items[1].created_at)
    activity.mark_read(people.ana, "2000-01-01T00:00:00Z")  # never moves back
    reads = [a.read for a in activity.list_activity(people.ana, 20, None).items]
    assert reads == [False, True, True, True]


def test_like_notifications_are_capped():
    assert all(activity.notify_like(n) for n in range(1, 51))
    assert not any(activity.notify_like(n) for n in (51, 99, 101, 999, 1001))
    assert all(activity.notify_like(n) for n in (100, 1000, 10000))


# Moderation and cascades -----------------------------------------------------------------------
def test_reports_once_per_user_grouped_by_post(people):
    view = post(people.ana)
    reports.report_post(people.bob, view.post_id, ReportIn(reason="spam"))
    reports.report_post(people.bob, view.post_id, ReportIn(reason="spam again"))  # adds nothing
    reports.report_post(people.eve, view.post_id, ReportIn(reason="rude"))
    listed = reports.queue("open", 10, None).items
    assert [(r.reporter.username, r.reason, r.report_count) for r in listed] == [("eve", "rude", 2)]


def test_only_author_or_moderator_deletes_and_moderation_is_logged(people):
    view = post(people.ana)
    with pytest.raises(Forbidden):
        posts.delete_post(who(people.bob), view.post_id)
    posts.delete_post(who(people.eve, "moderators"), view.post_id)
    log = [i for i in all_items() if i["PK"].startswith("MODLOG#")]
    assert [(e["actorId"], e["action"], e["target"]) for e in log] == [
        (people.eve, "delete_post", view.post_id)
    ]


def test_deleting_a_post_leaves_nothing_of_it(people, stream):
    media_id = ready_media(people.ana)
    view = post(people.ana, "#gone soon", media_ids=[media_id])
    interactions.like(people.bob, view.post_id)
    interactions.add_comment(people.bob, view.post_id, CommentIn(text="bye"))
    reports.report_post(people.eve, view.post_id, ReportIn(reason="x"))
    stream.pump()
    posts.delete_post(who(people.ana), view.post_id)
    stream.pump()
    left = [i for i in all_items() if view.post_id in str(i) or media_id in str(i)]
    assert left == []
    assert not [k for k in objects() if media_id in k]
    assert users.get_profile(people.ana).post_count == 0


def test_account_deletion_takes_posts_likes_comments_and_notifications(people, stream, cognito):
    mine = post(people.ana, "mine #tag")
    theirs = post(people.bob, "theirs")
    interactions.like(people.ana, theirs.post_id)
    interactions.add_comment(people.ana, theirs.post_id, CommentIn(text="by ana"))
    interactions.like(people.bob, mine.post_id)
    stream.pump()
    jobs.start_account_deletion(people.ana)
    stream.pump()
    mentions = [
        i
        for i in all_items()
        if any(
            people.ana in str(i.get(a, "")) or "ana" == str(i.get(a, "")).split("#")[-1]
            for a in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK")
        )
    ]
    assert mentions == []
    assert [i for i in all_items() if mine.post_id in str(i)] == []
    survivor = posts.get_post(people.bob, theirs.post_id)
    assert (survivor.like_count, survivor.comment_count) == (0, 0)


def test_media_of_a_followers_only_post_is_served_to_followers_only(people):
    from chalicelib import media

    media_id = ready_media(people.ana)
    post(people.ana, "private photo", visibility="followers", media_ids=[media_id])
    shown = media.get_for(people.bob, media_id)  # bob follows ana
    assert "X-Amz-Signature=" in shown.renditions.large
    with pytest.raises(NotFound):
        media.get_for(people.eve, media_id)


def test_the_feed_is_capped_in_length(people, stream, monkeypatch):
    monkeypatch.setattr(timelines, "LIST_CAP", 3)
    made = [post(people.ana, f"post {i}").post_id for i in range(5)]
    stream.pump()
    first = feed.feed(people.bob, 2, None)
    second = feed.feed(people.bob, 2, first.next_cursor)
    assert [p.post_id for p in first.items + second.items] == made[:1:-1]
    assert second.next_cursor is None  # older entries are not served (trims and TTL remove them)


def test_timelines_are_trimmed_on_write_to_the_cap(people, stream, monkeypatch):
    # Given a cap of 4 posts and a trim on every copy
    monkeypatch.setattr(timelines, "LIST_CAP", 4)
    monkeypatch.setattr(timelines, "TIMELINE_TRIM_ONE_IN", 1)
    # When ana posts 7 times and the stream fans them out
    made = [post(people.ana, f"post {i}").post_id for i in range(7)]
    stream.pump()
    # Then bob's timeline and ana's own keep the newest 4 items, nothing else
    assert sorted(store_items(keys.timeline_pk(people.bob))) == sorted(made[-4:])
    assert sorted(store_items(keys.timeline_pk(people.ana))) == sorted(made[-4:])
    # And a backfill into a full timeline trims it too
    for i in range(3):
        post(people.eve, f"eve {i}")
    stream.pump()
    follows.follow(people.eve, "ana")
    stream.pump()
    assert len(store_items(keys.timeline_pk(people.eve))) == 4


def test_about_one_copy_in_fifty_trims_its_timeline():

    due = sum(timelines.trim_due(f"user-{i}", "01POST") for i in range(10_000))
    assert 150 <= due <= 250
