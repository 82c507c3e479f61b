"""The follow graph: one edge item per follow, both counters in the same transaction.

An edge is listed on two indexes (the followee's followers, the follower's following), newest
first. Follow and unfollow are idempotent; the stream does the feed's backfill and unfill."""

from __future__ import annotations

from chalicelib import clock, db, keys, relations, users
from chalicelib.entities import Follow, Profile
from chalicelib.errors import Conflict, EchomateError, Invalid, NotFound
from chalicelib.ids import new_id
from chalicelib.models import FollowOut, UserSummary


def follow(caller_id: str, handle: str) -> FollowOut:
    """Follow ``handle`` (idempotent): the edge and both counters in one transaction. Someone
    who blocks the caller is a 404 to them; someone the caller blocks, a 409 (unblock first)."""
    target = users.profile_by_handle(handle)
    if target.user_id == caller_id:
        raise Invalid(
            "username: you cannot follow yourself", [{"field": "username", "reason": "self"}]
        )
    standing = relations.read_between(caller_id, target.user_id)
    if target.user_id in standing.blocked_by:
        raise NotFound(users.USER_NOT_FOUND)
    if target.user_id in standing.blocking:
        raise Conflict(
            "username: you block this account: unblock it first", [{"reason": "blocking"}]
        )
    edge_id = new_id()
    already = Conflict("already following")
    edge = Follow(
        follower_id=caller_id,
        followee_id=target.user_id,
        edge_id=edge_id,
        created_at=clock.now(),
    )
    live = "attribute_exists(PK) AND attribute_not_exists(deletedAt)"
    followed = db.get_store().transact_unless(
        [
            db.tx_put(edge, "attribute_not_exists(PK)", on_fail=already),
            _counter(target.user_id, "followerCount", 1, live, NotFound(users.USER_NOT_FOUND)),
            _counter(caller_id, "followingCount", 1, live, NotFound("your profile is gone")),
        ],
        unless=already,
    )
    return FollowOut(following=True, follower_count=target.follower_count + followed)


def unfollow(caller_id: str, handle: str) -> FollowOut:
    """Stop following ``handle`` (idempotent): the edge and both counters in one transaction."""
    target = users.profile_by_handle(handle)
    if target.user_id == caller_id:
        raise Invalid(
            "username: you cannot follow yourself", [{"field": "username", "reason": "self"}]
        )
    absent = NotFound("not following")
    unfollowed = db.get_store().transact_unless(
        remove_edge(caller_id, target.user_id, on_absent=absent), unless=absent
    )
    return FollowOut(following=False, follower_count=max(0, target.follower_count - unfollowed))


def remove_edge(
    follower_id: str,
    followee_id: str,
    *,
    on_absent: EchomateError,
    counters: tuple[bool, bool] = (True, True),
) -> list[db.TxOp]:
    """The transaction that deletes an edge and moves the counters of whichever side is
    still there (``counters``: followee's, follower's)."""
    ops = [
        db.tx_delete(
            Follow.key_of(follower_id, followee_id),
            "attribute_exists(PK)",
            on_fail=on_absent,
        )
    ]
    if counters[0]:
        ops.append(_counter(followee_id, "followerCount", -1, "attribute_exists(PK)"))
    if counters[1]:
        ops.append(_counter(follower_id, "followingCount", -1, "attribute_exists(PK)"))
    return ops


def _counter(
    user_id: str, attribute: str, delta: int, condition: str, on_fail: EchomateError | None = None
) -> db.TxOp:
    return db.tx_update(
        Profile.key_of(user_id),
        "ADD #counter :delta",
        condition,
        values={":delta": delta},
        names={"#counter": attribute},
        on_fail=on_fail,
    )


def followers(handle: str, limit: int, cursor: str | None) -> db.Page[UserSummary]:
    """Who follows ``handle``, newest first: one Query, one BatchGetItem (a 404 to someone
    ``handle`` blocks; accounts hidden from the caller are left out)."""
    user_id = _listed_user(handle)
    page = db.get_store().query_page(
        keys.followers_pk(user_id), index=keys.GSI1, limit=limit, cursor=cursor, model=Follow
    )
    return db.Page(users.summaries([e.follower_id for e in page.items]), page.next_cursor)


def following(handle: str, limit: int, cursor: str | None) -> db.Page[UserSummary]:
    """Whom ``handle`` follows, newest first: one Query, one BatchGetItem (a 404 to someone
    ``handle`` blocks; accounts hidden from the caller are left out)."""
    user_id = _listed_user(handle)
    page = db.get_store().query_page(
        keys.following_pk(user_id), index=keys.GSI2, limit=limit, cursor=cursor, model=Follow
    )
    return db.Page(users.summaries([e.followee_id for e in page.items]), page.next_cursor)


def _listed_user(handle: str) -> str:
    """The id of ``handle``, unless they block the request's viewer (then NotFound)."""
    user_id = users.user_id_for(handle)
    if user_id in relations.viewer().blocked_by:
        raise NotFound(users.USER_NOT_FOUND)
    return user_id
