"""Blocks and mutes: what a user does to keep someone away.

Blocking removes the follow edges between the two (both ways, counters in the same
transaction, with any pending follow request between them; the stream then takes each one's
recent posts out of the other's timeline) and writes the block with its mirror under the
blocked user, so each one's single Query of relations (``relations``) knows it. From then on
neither sees the other anywhere, neither can follow, like, comment on or notify the other.
Muting is one-way and quiet: the muted user's posts leave the muter's feed and explore, and
(with ``notifications``) their actions notify no more; the muted user sees no difference.
Both are idempotent.
"""

from __future__ import annotations

import time

from chalicelib import clock, db, keys, users
from chalicelib.entities import Block, BlockedBy, Follow, FollowRequest, Mute, Profile
from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.ids import new_id
from chalicelib.models import BlockOut, MutedOut, MuteIn, MuteOut, UserSummary
from chalicelib.relations import viewing

_ATTEMPTS = 3


def _other(caller_id: str, handle: str, what: str) -> str:
    target = users.profile_by_handle(handle)
    if target.user_id == caller_id:
        raise Invalid(
            f"username: you cannot {what} yourself", [{"field": "username", "reason": "self"}]
        )
    return target.user_id


def block(caller_id: str, handle: str) -> BlockOut:
    """Block ``handle``: the block and its mirror, and the follow edges between the two gone
    (counters corrected), in one transaction. Idempotent."""
    other = _other(caller_id, handle, "block")
    now = clock.now()
    already = Conflict("already blocking")
    for _ in range(_ATTEMPTS):
        edges = db.get_store().batch_get(
            [Follow.key_of(caller_id, other), Follow.key_of(other, caller_id)], Follow
        )
        ops = [
            db.tx_put(
                Block(blocker_id=caller_id, blocked_id=other, edge_id=new_id(), created_at=now),
                "attribute_not_exists(PK)",
                on_fail=already,
            ),
            db.tx_put(BlockedBy(blocker_id=caller_id, blocked_id=other, created_at=now)),
            # pending follow requests between them are dropped too
            db.tx_delete(FollowRequest.key_of(caller_id, other)),
            db.tx_delete(FollowRequest.key_of(other, caller_id)),
        ]
        gone = NotFound("the follow went meanwhile")
        counts = {caller_id: [0, 0], other: [0, 0]}  # followers, following: one update each
        for edge in edges.values():
            ops.append(db.tx_delete(edge.key, "attribute_exists(PK)", on_fail=gone))
            counts[edge.followee_id][0] -= 1
            counts[edge.follower_id][1] -= 1
        ops += [
            db.tx_update(
                Profile.key_of(user_id),
                "ADD followerCount :followers, followingCount :following",
                "attribute_exists(PK)",
                values={":followers": followers, ":following": following},
            )
            for user_id, (followers, following) in counts.items()
            if followers or following
        ]
        try:
            db.get_store().transact_unless(ops, unless=already)
        except NotFound as exc:
            if exc is not gone:
                raise
            continue  # an edge changed while we looked: read them again
        return BlockOut(blocking=True)
    raise Conflict("the follows between you are changing; retry")


def unblock(caller_id: str, handle: str) -> BlockOut:
    """Undo a block (idempotent). Follows that it removed stay removed."""
    other = _other(caller_id, handle, "block")
    db.get_store().transact_write(
        [
            db.tx_delete(Block.key_of(caller_id, other)),
            db.tx_delete(BlockedBy.key_of(other, caller_id)),
        ]
    )
    return BlockOut(blocking=False)


def mute(caller_id: str, handle: str, body: MuteIn) -> MuteOut:
    """Mute ``handle`` (again: the new terms replace the old ones)."""
    other = _other(caller_id, handle, "mute")
    until = int(time.time()) + body.duration_seconds if body.duration_seconds else None
    db.get_store().put(
        Mute(
            muter_id=caller_id,
            muted_id=other,
            edge_id=new_id(),
            notifications=body.notifications,
            until=until,
            created_at=clock.now(),
            ttl=until + 24 * 3600 if until else None,
        )
    )
    return MuteOut(muting=True, until=clock.iso_timestamp(until) if until else None)


def unmute(caller_id: str, handle: str) -> MuteOut:
    """Undo a mute (idempotent)."""
    other = _other(caller_id, handle, "mute")
    db.get_store().delete(Mute.key_of(caller_id, other))
    return MuteOut(muting=False)


def blocks(caller_id: str, limit: int, cursor: str | None) -> db.Page[UserSummary]:
    """Whom the caller blocks, newest first (shown here, and only here, to them)."""
    page = db.get_store().query_page(
        keys.relation_list_pk("BLOCKS", caller_id),
        index=keys.GSI2,
        limit=limit,
        cursor=cursor,
        model=Block,
    )
    with viewing(None):  # the one list where the people one blocks appear
        return db.Page(users.summaries([b.blocked_id for b in page.items]), page.next_cursor)


def mutes(caller_id: str, limit: int, cursor: str | None) -> db.Page[MutedOut]:
    """Whom the caller mutes, newest first, with until when and whether notifications too
    (mutes that have ended are left out)."""
    page = db.get_store().query_page(
        keys.relation_list_pk("MUTES", caller_id),
        index=keys.GSI2,
        limit=limit,
        cursor=cursor,
        model=Mute,
    )
    now = time.time()
    live = [m for m in page.items if m.active(now)]
    return db.Page(
        users.with_users(
            live,
            lambda m: m.muted_id,
            lambda m, user: MutedOut(
                user=user,
                until=clock.iso_timestamp(m.until) if m.until else None,
                notifications=m.notifications,
            ),
        ),
        page.next_cursor,
    )
