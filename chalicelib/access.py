"""Who may see what: the reading rules every feature applies where content is read.

A post is seen only while its author's account stands (not disabled, deleted or unconfirmed).
A ``followers`` post is visible to its author and their followers only (a 404 to anyone else,
everywhere). Moderators see every post, to act on what is reported. The safety rules (blocks,
private accounts) join them here."""

from __future__ import annotations

from chalicelib import accounts, db, relations
from chalicelib.entities import Follow, Post
from chalicelib.errors import NotFound

POST_NOT_FOUND = "post not found"


def follows(follower_id: str, followee_id: str) -> bool:
    """Whether ``follower_id`` follows ``followee_id`` (one GetItem)."""
    return db.get_store().get(Follow.key_of(follower_id, followee_id), Follow) is not None


def may_see_everything_of(caller_id: str, author_id: str) -> bool:
    """Whether the caller sees the author's followers-only posts too."""
    return caller_id == author_id or follows(caller_id, author_id)


def find_post(post_id: str) -> Post:
    """The post with this id, whoever may see it; NotFound if there is none (one GetItem)."""
    if not post_id or "#" in post_id or len(post_id) > 64:
        raise NotFound(POST_NOT_FOUND)
    post = db.get_store().get(Post.key_of(post_id), Post)
    if post is None:
        raise NotFound(POST_NOT_FOUND)
    return post


def visible_post(caller_id: str, post_id: str, *, moderator: bool = False) -> Post:
    """The post, if the caller may see it now; NotFound otherwise: a followers-only post of
    someone the caller does not follow, a post whose author is disabled or gone. A
    ``moderator`` sees every post."""
    post = find_post(post_id)
    if moderator or post.author_id == caller_id:
        return post
    if not accounts.shown(accounts.cached_profile(post.author_id)):
        raise NotFound(POST_NOT_FOUND)
    # One BatchGetItem: a block either way, and the follow edge a followers-only post needs
    edge = Follow.key_of(caller_id, post.author_id)
    wanted = relations.keys_between(caller_id, post.author_id)
    restricted = post.visibility == "followers"
    found = db.get_store().batch_get([*wanted, edge] if restricted else wanted)
    if relations.between(caller_id, post.author_id, found).hidden:
        raise NotFound(POST_NOT_FOUND)
    if restricted and edge not in found:
        raise NotFound(POST_NOT_FOUND)
    return post
