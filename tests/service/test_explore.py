"""Explore pages are bounded however sparse the recent hours are, and a busy hour is read
through, not cut at its first page."""

import time

from chalicelib import feed, relations, safety
from chalicelib.entities import Post
from chalicelib.ids import new_id
from chalicelib.models import MuteIn
from tests.factories import make_user


def _post_at(store, author, moment):
    post = Post(
        post_id=new_id(moment), author_id=author, caption="x", visibility="public", created_at="t"
    )
    store.put(post)
    return post.post_id


def test_a_quiet_week_is_read_a_bounded_number_of_queries_at_a_time(store, dynamodb_calls):
    ana, bob = make_user("ana"), make_user("bob")
    now = time.time()
    recent = _post_at(store, ana, now)
    old = _post_at(store, ana, now - 30 * 3600)  # 30 empty hours in between
    seen, cursor, pages = [], None, 0
    while True:
        dynamodb_calls.clear()
        page = feed.explore(bob, 20, cursor)
        pages += 1
        assert dynamodb_calls.count("Query") <= feed.EXPLORE_QUERIES_PER_PAGE
        seen += [p.post_id for p in page.items]
        cursor = page.next_cursor
        if old in seen or cursor is None:
            break
    assert seen == [recent, old]
    assert pages == 4  # 31 hours, 8 Queries a page


def test_a_busy_hour_is_read_through_past_filtered_posts(store):
    ana, bob, eve = make_user("ana"), make_user("bob"), make_user("eve")
    now = time.time() // 3600 * 3600 + 1800  # the middle of an hour: one bucket
    kept = [_post_at(store, ana, now - i) for i in range(10, 30)]  # older
    for i in range(10):
        _post_at(store, eve, now - i / 10)  # the newest ten, by a muted user
    safety.mute(bob, "eve", MuteIn())
    with relations.viewing(bob):
        page = feed.explore(bob, 20, None)
    assert [p.post_id for p in page.items] == kept  # none skipped after the muted ones
