"""Private accounts, counted: a feed page, a post and a profile cost what they cost before
(the author's privacy is read in the same BatchGetItem as the author); follow requests go with
either account."""

from types import SimpleNamespace

import pytest

from chalicelib import access, feed, follows, jobs, posts, relations, users
from chalicelib.entities import Follow, FollowRequest
from chalicelib.errors import Forbidden, NotFound
from chalicelib.models import MePatch, PostIn
from tests.factories import make_user
from tests.support import items_mentioning


@pytest.fixture
def people(store, stream):
    """ana is private, bob follows her (from before), eve does not."""
    ana, bob, eve = make_user("ana"), make_user("bob"), make_user("eve")
    follows.follow(bob, "ana")
    made = posts.create_post(ana, PostIn(caption="hi #x"), None)
    users.update_me(ana, MePatch(private=True), None)
    stream.pump()
    feed.big_accounts()  # the instance's minute-long cache of big accounts is warm
    return SimpleNamespace(ana=ana, bob=bob, eve=eve, post=made.post_id)


def test_a_feed_page_with_a_private_author_costs_what_it_did(people, dynamodb_calls, stream):
    dynamodb_calls.clear()
    page = feed.feed(people.bob, 20, None)
    assert [p.post_id for p in page.items] == [people.post]
    assert dynamodb_calls == ["Query", "BatchGetItem", "BatchGetItem"]
    # removed as a follower: the timeline copy is still there until the stream takes it out,
    # and the page leaves it out at no extra cost
    follows.remove_follower(people.ana, "bob")
    dynamodb_calls.clear()
    assert feed.feed(people.bob, 20, None).items == []
    assert dynamodb_calls == ["Query", "BatchGetItem", "BatchGetItem"]


def test_a_post_of_a_private_account_is_two_requests_for_anyone(people, dynamodb_calls):
    dynamodb_calls.clear()
    seen = access.seen_post(people.bob, people.post)
    assert dynamodb_calls == ["GetItem", "BatchGetItem"]
    assert seen.restricted  # its media gets no public URL
    dynamodb_calls.clear()
    with pytest.raises(NotFound):
        access.seen_post(people.eve, people.post)
    assert dynamodb_calls == ["GetItem", "BatchGetItem"]


def test_a_profile_view_says_requested_in_the_same_two_requests(people, dynamodb_calls):
    assert follows.follow(people.eve, "ana").requested
    dynamodb_calls.clear()
    with relations.viewing(people.eve):
        view = users.public_profile(people.eve, "ana")
    assert dynamodb_calls == ["GetItem", "BatchGetItem"]
    assert (view.private, view.requested, view.is_following) == (True, True, False)


def test_outsiders_get_a_403_for_posts_and_follow_lists(people):
    for read in (
        lambda: posts.user_posts(people.eve, "ana", 20, None),
        lambda: follows.followers(people.eve, "ana", 20, None),
        lambda: follows.following(people.eve, "ana", 20, None),
    ):
        with pytest.raises(Forbidden) as refused:
            read()
        assert refused.value.details == [{"reason": "private_account"}]
    assert [p.post_id for p in posts.user_posts(people.bob, "ana", 20, None).items] == [people.post]


def test_accepting_makes_the_edge_and_answers_the_request_in_one_transaction(people, store):
    follows.follow(people.eve, "ana")
    out = follows.accept(people.ana, "eve")
    assert (out.follower, out.follower_count) == (True, 2)
    edge = store.get(Follow.key_of(people.eve, people.ana), Follow)
    assert edge is not None and edge.accepted
    assert store.get(FollowRequest.key_of(people.ana, people.eve), FollowRequest) is None
    assert users.get_profile(people.eve).following_count == 1
    with pytest.raises(NotFound):
        follows.reject(people.ana, "eve")  # answered already


def test_account_deletion_removes_requests_both_ways(people, stream, cognito):
    users.update_me(people.eve, MePatch(private=True), None)
    follows.follow(people.eve, "ana")  # a request waiting for ana, under ana
    follows.follow(people.ana, "eve")  # ana's request, under eve
    stream.pump()
    jobs.start_account_deletion(people.ana)
    stream.pump()
    assert items_mentioning(people.ana) == []
    assert follows.requests(people.eve, 20, None).items == []
