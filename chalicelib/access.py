"""Who may see what: the reading rules every feature applies where content is read.

A ``followers`` post is visible to its author and their followers only (a 404 to anyone else,
everywhere). The safety rules (blocks, private accounts) join them here."""

from __future__ import annotations

from chalicelib import db
from chalicelib.entities import Follow, Post
from chalicelib.errors import NotFound

POST_NOT_FOUND = "post not found"


def follows(follower_id: str, followee_id: str) -> bool:
    """Whether ``follower_id`` follows ``followee_id`` (one GetItem)."""
    return db.get_store().get(Follow.key_of(follower_id, followee_id), Follow) is not None


def may_see_everything_of(caller_id: str, author_id: str) -> bool:
    """Whether the caller sees the author's followers-only posts too."""
    return caller_id == author_id or follows(caller_id, author_id)


def visible_post(caller_id: str, post_id: str) -> Post:
    """The post, if the caller may see it; NotFound otherwise (also for followers-only posts
    of someone the caller does not follow)."""
    if not post_id or "#" in post_id or len(post_id) > 64:
        raise NotFound(POST_NOT_FOUND)
    store = db.get_store()
    post = store.get(Post.key_of(post_id), Post)
    if post is None:
        raise NotFound(POST_NOT_FOUND)
    restricted = post.visibility == "followers" and post.author_id != caller_id
    if restricted and not follows(caller_id, post.author_id):
        raise NotFound(POST_NOT_FOUND)
    return post
