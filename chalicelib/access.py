"""Who may see what: the reading rules every feature applies where content is read.

A post is seen only while its author's account stands (not disabled, deleted or unconfirmed).
A ``followers`` post is visible to its author and their followers only (a 404 to anyone else,
everywhere). A private account's posts, whatever their visibility, are visible to it and its
accepted followers only, and never listed in explore or hashtag search. Moderators see every
post, to act on what is reported. Blocks either way hide everything."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from chalicelib import accounts, db, relations
from chalicelib.entities import Entity, Follow, ItemKey, Post, Profile
from chalicelib.errors import Forbidden, NotFound

POST_NOT_FOUND = "post not found"


def find_post(post_id: str) -> Post:
    """The post with this id, whoever may see it; NotFound if there is none (one GetItem)."""
    if not post_id or "#" in post_id or len(post_id) > 64:
        raise NotFound(POST_NOT_FOUND)
    post = db.get_store().get(Post.key_of(post_id), Post)
    if post is None:
        raise NotFound(POST_NOT_FOUND)
    return post


def private_account() -> Forbidden:
    """What an outsider gets for a private account's posts or follow lists."""
    return Forbidden("this account is private", [{"reason": "private_account"}])


class Seen(NamedTuple):
    """A post the caller may see, whether it is restricted (followers-only, or by a private
    account: its media then never gets a public, cacheable URL), its author's profile when it
    was read, and whatever else the same BatchGetItem read (``extra``)."""

    post: Post
    restricted: bool
    author: Profile | None = None
    found: Mapping[tuple[str, str], Entity] = {}


def visible_post(caller_id: str, post_id: str, *, moderator: bool = False) -> Post:
    """The post, if the caller may see it now; NotFound otherwise (``seen_post``)."""
    return seen_post(caller_id, post_id, moderator=moderator).post


def seen_post(
    caller_id: str,
    post_id: str,
    *,
    moderator: bool = False,
    extra: Sequence[ItemKey] = (),
) -> Seen:
    """The post, if the caller may see it now; NotFound otherwise: a followers-only post, or
    any post of a private account, of someone the caller does not follow; a post whose author
    is disabled or gone, or blocks the caller or is blocked by them. A ``moderator`` sees every
    post. Two requests: the post, then one BatchGetItem of its author's profile, the follow
    edge, the blocks either way and ``extra`` (the caller's likes, their own profile: what the
    request needs next). The author and a moderator skip the checks (and the second request,
    unless ``extra`` is asked for)."""
    post = find_post(post_id)
    profile_key = Profile.key_of(post.author_id)
    if moderator or post.author_id == caller_id:
        if not extra:
            return Seen(post, post.visibility == "followers")
        found = db.get_store().batch_get([profile_key, *extra])
        author = found.get(profile_key)
        profile = author if isinstance(author, Profile) else None
        restricted = post.visibility == "followers" or bool(profile and profile.private)
        return Seen(post, restricted, profile, found)
    edge = Follow.key_of(caller_id, post.author_id)
    wanted = relations.keys_between(caller_id, post.author_id)
    found = db.get_store().batch_get([profile_key, edge, *wanted, *extra])
    author = found.get(profile_key)
    if not isinstance(author, Profile) or not accounts.shown(author):
        raise NotFound(POST_NOT_FOUND)
    if relations.between(caller_id, post.author_id, found).hidden:
        raise NotFound(POST_NOT_FOUND)
    restricted = post.visibility == "followers" or author.private
    if restricted and edge not in found:
        raise NotFound(POST_NOT_FOUND)
    return Seen(post, restricted, author, found)
