"""The follow graph: one edge item per follow, both counters in the same transaction.

An edge is listed on two indexes (the followee's followers, the follower's following), newest
first. Follow and unfollow are idempotent; the stream does the feed's backfill and unfill.

Following a private account makes a request (``FollowRequest``, under the owner) that the owner
accepts (the edge is made as by a follow, with ``accepted`` set so the requester is told) or
rejects; unfollowing withdraws it. Switching back to public accepts nothing by itself: pending
requests wait for an answer, and a requester who follows the now-public account answers theirs
(the follow transaction deletes it)."""

from __future__ import annotations

import contextlib

from chalicelib import access, accounts, clock, db, keys, relations, users
from chalicelib.entities import Follow, FollowRequest, Profile
from chalicelib.errors import Conflict, EchomateError, Invalid, NotFound
from chalicelib.ids import new_id
from chalicelib.models import FollowerOut, FollowOut, FollowRequestOut, UserSummary


def follow(caller_id: str, handle: str) -> FollowOut:
    """Follow ``handle`` (idempotent): the edge and both counters in one transaction, or, when
    the account is private, a request its owner accepts or rejects. Someone who blocks the
    caller is a 404 to them; someone the caller blocks, a 409 (unblock first)."""
    target = _target(caller_id, handle)
    standing = relations.read_between(caller_id, target.user_id)
    if target.user_id in standing.blocked_by:
        raise NotFound(users.USER_NOT_FOUND)
    if target.user_id in standing.blocking:
        raise Conflict(
            "username: you block this account: unblock it first", [{"reason": "blocking"}]
        )
    if target.private:
        return _request(caller_id, target)
    already = Conflict("already following")
    followed = db.get_store().transact_unless(
        add_edge(caller_id, target.user_id, on_exists=already),
        unless=already,
    )
    return FollowOut(following=True, follower_count=target.follower_count + followed)


def _target(caller_id: str, handle: str) -> Profile:
    target = users.profile_by_handle(handle)
    if target.user_id == caller_id:
        raise Invalid(
            "username: you cannot follow yourself", [{"field": "username", "reason": "self"}]
        )
    return target


def add_edge(
    follower_id: str, followee_id: str, *, on_exists: EchomateError, accepted: bool = False
) -> list[db.TxOp]:
    """The transaction that makes ``follower_id`` follow ``followee_id``: the edge (unless it
    exists: ``on_exists``), both counters (only while both accounts stand), and any request
    between them answered by it."""
    edge = Follow(
        follower_id=follower_id,
        followee_id=followee_id,
        edge_id=new_id(),
        created_at=clock.now(),
        accepted=accepted,
    )
    live = "attribute_exists(PK) AND attribute_not_exists(deletedAt)"
    return [
        db.tx_put(edge, "attribute_not_exists(PK)", on_fail=on_exists),
        _counter(followee_id, "followerCount", 1, live, NotFound(users.USER_NOT_FOUND)),
        _counter(follower_id, "followingCount", 1, live, NotFound(users.USER_NOT_FOUND)),
        db.tx_delete(FollowRequest.key_of(followee_id, follower_id)),
    ]


def _request(caller_id: str, target: Profile) -> FollowOut:
    """Ask to follow the private ``target`` (idempotent; following already is answered as
    such). The owner is notified by the stream (``follow_request``)."""
    store = db.get_store()
    if store.get(Follow.key_of(caller_id, target.user_id), Follow) is not None:
        return FollowOut(following=True, follower_count=target.follower_count)
    request = FollowRequest(
        owner_id=target.user_id,
        requester_id=caller_id,
        edge_id=new_id(),
        created_at=clock.now(),
    )
    with contextlib.suppress(Conflict):  # asked already: the first request stands
        store.put(request, condition="attribute_not_exists(PK)")
    return FollowOut(following=False, requested=True, follower_count=target.follower_count)


def unfollow(caller_id: str, handle: str) -> FollowOut:
    """Stop following ``handle``, or withdraw a pending request to it (idempotent): the edge
    and both counters in one transaction."""
    target = _target(caller_id, handle)
    absent = NotFound("not following")
    store = db.get_store()
    store.delete(FollowRequest.key_of(target.user_id, caller_id))
    unfollowed = store.transact_unless(
        remove_edge(caller_id, target.user_id, on_absent=absent), unless=absent
    )
    return FollowOut(following=False, follower_count=max(0, target.follower_count - unfollowed))


def remove_follower(caller_id: str, handle: str) -> None:
    """``handle`` follows the caller no more (idempotent; the stream takes the caller's posts
    out of their timeline). An unknown handle is a 404."""
    follower_id = users.user_id_for(handle)
    if follower_id == caller_id:
        raise Invalid(
            "username: you do not follow yourself", [{"field": "username", "reason": "self"}]
        )
    absent = NotFound("not a follower")
    db.get_store().transact_unless(
        remove_edge(follower_id, caller_id, on_absent=absent), unless=absent
    )


# Follow requests -------------------------------------------------------------------------------
def requests(caller_id: str, limit: int, cursor: str | None) -> db.Page[FollowRequestOut]:
    """The requests waiting for the caller, newest first: one Query, one BatchGetItem
    (requesters who are gone or hidden are left out)."""
    page = db.get_store().query_page(
        keys.follow_requests_pk(caller_id),
        index=keys.GSI1,
        limit=limit,
        cursor=cursor,
        model=FollowRequest,
    )
    return page.map(
        lambda items: users.with_users(
            items,
            lambda r: r.requester_id,
            lambda r, user: FollowRequestOut(user=user, created_at=r.created_at),
        )
    )


def _no_request(handle: str) -> NotFound:
    return NotFound(f"no follow request from {handle}", [{"reason": "no_request"}])


def accept(caller_id: str, handle: str) -> FollowerOut:
    """Accept ``handle``'s request: the request goes and the edge is made with both counters,
    in one transaction (the stream backfills their feed and notifies both). A request that does
    not exist is a 404; accepting again after it is done is too."""
    requester_id = users.user_id_for(handle)
    missing = _no_request(handle)
    ops = add_edge(requester_id, caller_id, on_exists=Conflict("already following"), accepted=True)
    request = FollowRequest.key_of(caller_id, requester_id)
    ops[-1] = db.tx_delete(request, "attribute_exists(PK)", on_fail=missing)
    try:
        db.get_store().transact_write(ops)
    except Conflict:  # they follow already (made public meanwhile): the request is answered
        db.get_store().delete(request)
    return FollowerOut(follower=True, follower_count=users.get_profile(caller_id).follower_count)


def reject(caller_id: str, handle: str) -> None:
    """Turn ``handle``'s request down (the requester is not told). 404 if there is none."""
    requester_id = users.user_id_for(handle)
    if not db.get_store().delete(
        FollowRequest.key_of(caller_id, requester_id), condition="attribute_exists(PK)"
    ):
        raise _no_request(handle)


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


def followers(caller_id: str, handle: str, limit: int, cursor: str | None) -> db.Page[UserSummary]:
    """Who follows ``handle``, newest first (``_network``)."""
    user_id = _listed_user(handle)
    page = db.get_store().query_page(
        keys.followers_pk(user_id), index=keys.GSI1, limit=limit, cursor=cursor, model=Follow
    )
    return _network(caller_id, user_id, [e.follower_id for e in page.items], page.next_cursor)


def following(caller_id: str, handle: str, limit: int, cursor: str | None) -> db.Page[UserSummary]:
    """Whom ``handle`` follows, newest first (``_network``)."""
    user_id = _listed_user(handle)
    page = db.get_store().query_page(
        keys.following_pk(user_id), index=keys.GSI2, limit=limit, cursor=cursor, model=Follow
    )
    return _network(caller_id, user_id, [e.followee_id for e in page.items], page.next_cursor)


def _listed_user(handle: str) -> str:
    """The id of ``handle``, unless they block the request's viewer (then NotFound)."""
    user_id = users.user_id_for(handle)
    if user_id in relations.viewer().blocked_by:
        raise NotFound(users.USER_NOT_FOUND)
    return user_id


def _network(
    caller_id: str, user_id: str, listed: list[str], next_cursor: str | None
) -> db.Page[UserSummary]:
    """A page of ``user_id``'s followers or followees, if the caller may read it: three
    requests in all (the handle, the list's Query, then one BatchGetItem of the listed
    profiles with the account's own profile and the caller's edge to it). A private account's
    lists are for it and its followers (Forbidden for anyone else); accounts hidden from the
    caller are left out."""
    profile_key, edge = Profile.key_of(user_id), Follow.key_of(caller_id, user_id)
    own = caller_id == user_id
    found_summaries, found = users.summaries_with(listed, [] if own else [profile_key, edge])
    if not own:
        profile = found.get(profile_key)
        if not isinstance(profile, Profile) or not accounts.shown(profile):
            raise NotFound(users.USER_NOT_FOUND)
        if profile.private and edge not in found:
            raise access.private_account()
    return db.Page([found_summaries[u] for u in listed if u in found_summaries], next_cursor)
