"""The cost of the safety layer, counted: the viewer's blocks and mutes are read once per page
(one Query), never per item; a profile view stays at 2 requests; the stream's notifications
consult the relation between the two users in one BatchGetItem."""

from types import SimpleNamespace

import pytest

from chalicelib import feed, follows, interactions, posts, relations, users
from chalicelib.entities import Block, BlockedBy
from chalicelib.models import CommentIn, PostIn
from tests.factories import make_user
from tests.support import items_mentioning


@pytest.fixture
def people(store, stream):
    ana, bob, eve = make_user("ana"), make_user("bob"), make_user("eve")
    follows.follow(bob, "ana")
    stream.pump()
    made = posts.create_post(ana, PostIn(caption="hi #x"), None)
    interactions.add_comment(eve, made.post_id, CommentIn(text="yo"))
    stream.pump()
    feed.big_accounts()  # the instance's minute-long cache of big accounts is warm
    return SimpleNamespace(ana=ana, bob=bob, eve=eve, post=made.post_id)


def test_a_feed_page_costs_one_query_more_with_the_viewer_read_once(people, dynamodb_calls):
    dynamodb_calls.clear()
    feed.feed(people.bob, 20, None)  # no viewer: as before the safety layer
    assert dynamodb_calls == ["Query", "BatchGetItem", "BatchGetItem"]
    dynamodb_calls.clear()
    with relations.viewing(people.bob):
        feed.feed(people.bob, 20, None)
    assert dynamodb_calls == ["Query", "Query", "BatchGetItem", "BatchGetItem"]


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("explore", lambda p: feed.explore(p.bob, 20, None)),
        ("comments", lambda p: interactions.comments(p.bob, p.post, 20, None)),
        ("tag", lambda p: posts.search_tag(p.bob, "x", 20, None)),
    ],
)
def test_every_list_reads_the_relations_once(people, dynamodb_calls, name, read):
    dynamodb_calls.clear()
    read(people)
    without = list(dynamodb_calls)
    dynamodb_calls.clear()
    with relations.viewing(people.bob):
        read(people)
    with_viewer = list(dynamodb_calls)
    assert len(with_viewer) == len(without) + 1, (name, without, with_viewer)
    assert with_viewer.count("Query") == without.count("Query") + 1


def test_a_profile_view_stays_at_two_requests(people, dynamodb_calls):
    dynamodb_calls.clear()
    with relations.viewing(people.bob):
        view = users.public_profile(people.bob, "ana")
    assert dynamodb_calls == ["GetItem", "BatchGetItem"]
    assert (view.is_following, view.is_followed_by, view.blocking, view.muting) == (
        True,
        False,
        False,
        False,
    )


def test_a_block_is_stored_with_its_mirror_so_one_query_reads_both_ways(people, store):
    from chalicelib import safety

    safety.block(people.ana, "eve")
    assert store.get(Block.key_of(people.ana, people.eve), Block) is not None
    assert store.get(BlockedBy.key_of(people.eve, people.ana), BlockedBy) is not None
    assert relations.of(people.ana).blocking == {people.eve}
    assert relations.of(people.eve).blocked_by == {people.ana}
    assert relations.of(people.eve).hidden == {people.ana}  # both ways, each from one Query
    assert relations.of(people.ana).hidden == {people.eve}


def test_account_deletion_removes_blocks_and_mutes_both_ways(people, stream, cognito):
    from chalicelib import jobs, safety
    from chalicelib.models import MuteIn

    safety.block(people.ana, "bob")  # ana's block (and its mirror under bob)
    safety.block(people.eve, "ana")  # a block of ana (its mirror under ana)
    safety.mute(people.ana, "eve", MuteIn())  # ana's mute
    safety.mute(people.bob, "ana", MuteIn())  # a mute of ana
    stream.pump()
    jobs.start_account_deletion(people.ana)
    stream.pump()

    assert items_mentioning(people.ana) == []
    assert relations.of(people.bob) == relations.of(people.eve) == relations.NOBODY


def test_a_block_costs_the_same_whatever_the_followers(people, dynamodb_calls, stream):
    """A block touches the two users' edges only (the stream unfills their timelines), so a
    block of an account with many followers runs no per-follower work in the request."""
    from chalicelib import safety

    dynamodb_calls.clear()
    safety.block(people.eve, "bob")
    few = list(dynamodb_calls)
    for i in range(30):
        follows.follow(make_user(f"fan{i}"), "ana")
    stream.pump()
    dynamodb_calls.clear()
    safety.block(people.eve, "ana")
    assert dynamodb_calls == few == ["GetItem", "GetItem", "BatchGetItem", "TransactWriteItems"]
