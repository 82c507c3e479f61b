"""Followed hashtags, counted: the viewer's one Query of relations says which tags they follow
(no request more without any), and each followed tag costs its feed page one Query."""

from chalicelib import feed, posts, relations, tags
from chalicelib.models import PostIn
from tests.factories import make_user


def test_each_followed_tag_costs_a_feed_page_one_query(store, stream, dynamodb_calls):
    ana, bob = make_user("ana"), make_user("bob")
    made = posts.create_post(bob, PostIn(caption="#sun #sea"), None)
    stream.pump()
    feed.big_accounts()
    dynamodb_calls.clear()
    with relations.viewing(ana):
        assert feed.feed(ana, 20, None).items == []
    assert dynamodb_calls == ["Query", "Query"]  # relations, timeline: nothing to read
    tags.follow(ana, "sun")
    tags.follow(ana, "sea")
    dynamodb_calls.clear()
    with relations.viewing(ana):
        page = feed.feed(ana, 20, None)
    assert [p.post_id for p in page.items] == [made.post_id]  # once, for two tags
    assert dynamodb_calls == ["Query", "Query", "Query", "Query", "BatchGetItem", "BatchGetItem"]
