"""Every page is bounded (#13): the DynamoDB requests of the routes that read, counted exactly.
The viewer's relations Query (once per request, when a list needs it) is counted where it is
made; rate-limit counters are the route layer's and not counted here."""

from types import SimpleNamespace

import pytest

from chalicelib import feed, follows, interactions, posts, relations, users
from chalicelib.errors import Forbidden
from chalicelib.models import CommentIn, MePatch, PostIn
from tests.factories import make_user


@pytest.fixture
def people(store, stream):
    ana, bob = make_user("ana"), make_user("bob")
    follows.follow(bob, "ana")
    made = [
        posts.create_post(ana, PostIn(caption=f"#n{i}", visibility=v), None)
        for i, v in enumerate(["public", "followers", "public"])
    ]
    interactions.like(bob, made[0].post_id)
    stream.pump()
    feed.big_accounts()
    return SimpleNamespace(ana=ana, bob=bob, posts=[m.post_id for m in made])


def _count(dynamodb_calls, read):
    dynamodb_calls.clear()
    with relations.viewing(None):
        result = read()
    return list(dynamodb_calls), result


def test_a_users_posts_page_is_three_requests(people, dynamodb_calls):
    calls, page = _count(dynamodb_calls, lambda: posts.user_posts(people.bob, "ana", 20, None))
    assert calls == ["GetItem", "Query", "BatchGetItem"]
    assert len(page.items) == 3 and page.items[-1].liked_by_me  # likes in the same batch
    calls, page = _count(dynamodb_calls, lambda: posts.user_posts(people.ana, "ana", 20, None))
    assert calls == ["GetItem", "Query", "BatchGetItem"]


def test_a_private_accounts_refusal_costs_the_same(people, dynamodb_calls):
    users.update_me(people.ana, MePatch(private=True), None)
    outsider = make_user("eve")
    dynamodb_calls.clear()
    with pytest.raises(Forbidden):
        posts.user_posts(outsider, "ana", 20, None)
    assert dynamodb_calls == ["GetItem", "Query", "BatchGetItem"]


def test_a_post_is_two_requests_for_anyone(people, dynamodb_calls):
    for caller in (people.bob, people.ana):
        calls, view = _count(
            dynamodb_calls, lambda c=caller: posts.get_post(c, people.posts[1], moderator=False)
        )
        assert calls == ["GetItem", "BatchGetItem"], caller
        assert view.post_id == people.posts[1]
    calls, view = _count(dynamodb_calls, lambda: posts.get_post(people.bob, people.posts[0]))
    assert calls == ["GetItem", "BatchGetItem"] and view.liked_by_me


def test_a_comment_is_two_reads_and_one_transaction(people, dynamodb_calls):
    calls, said = _count(
        dynamodb_calls,
        lambda: interactions.add_comment(people.bob, people.posts[0], CommentIn(text="hi")),
    )
    assert calls == ["GetItem", "BatchGetItem", "TransactWriteItems"]
    assert said.author.username == "bob"
