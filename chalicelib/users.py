"""Users: handles, profiles, search, the follow graph, and account deletion.

A handle is reserved in the table before the Cognito account exists (a conditional write, so two
racing sign-ups can't both get it), then bound to the new user in the same transaction that
creates the profile and its search entries. A reservation whose sign-up died halfway expires by
TTL, and can be taken over after ``STALE_RESERVATION_SECONDS``: no orphan holds a handle for good.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from chalicelib import accounts, clock, db, documents, keys, media, relations
from chalicelib.entities import Follow, FollowRequest, Handle, Profile, SearchEntry
from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.models import MeOut, MePatch, PublicProfileOut, Renditions, UserSummary

T = TypeVar("T")
R = TypeVar("R")
STALE_RESERVATION_SECONDS = 15 * 60
_RESERVATION_TTL_SECONDS = 24 * 3600
_MAX_NAME_TERMS = 3
_PATCH_ATTEMPTS = 3


def _taken(handle: str) -> Conflict:
    return Conflict(f"username: {handle} is taken", [{"field": "username", "reason": "taken"}])


USER_NOT_FOUND = "user not found"


# Handles and sign-up ---------------------------------------------------------------------------
def reserve_handle(handle: str, *, now: float | None = None) -> str:
    """Hold ``handle`` for a sign-up in progress; returns the reservation id. 409 if taken."""
    now = time.time() if now is None else now
    store = db.get_store()
    reservation = secrets.token_hex(8)
    item = Handle(
        handle=handle,
        status="pending",
        reservation=reservation,
        reserved_at=int(now),
        ttl=int(now) + _RESERVATION_TTL_SECONDS,
    )
    try:
        store.put(item, condition="attribute_not_exists(PK)", on_fail=_taken(handle))
    except Conflict:
        # A sign-up that died between reserving and binding leaves a pending reservation;
        # take it over once it is stale (conditionally, so only one taker wins).
        store.put(
            item,
            condition="#status = :pending AND reservedAt < :stale",
            values={":pending": "pending", ":stale": int(now) - STALE_RESERVATION_SECONDS},
            names={"#status": "status"},
            on_fail=_taken(handle),
        )
    return reservation


def release_handle(handle: str, reservation: str) -> None:
    """Give up a reservation (the sign-up failed); a no-op if it is no longer ours."""
    db.get_store().delete(
        Handle.key_of(handle),
        condition="reservation = :reservation",
        values={":reservation": reservation},
    )


def search_terms(handle: str, name: str) -> set[str]:
    """What a user is found by: the handle, the name, and the name from its 2nd/3rd word.
    Each term is in the form its key stores (``keys.canonical``), so a name that folds into the
    handle (black-letter "Hana" and "hana") is one term, not two writes of one key in one
    transaction."""
    words = keys.canonical(name).split()
    terms = {keys.canonical(handle)} | {
        " ".join(words[i:]) for i in range(min(len(words), _MAX_NAME_TERMS))
    }
    cut = {keys.canonical(t[:100].strip()) for t in terms}
    return {t for t in cut if t.strip() and "#" not in t}


def _search_item(user_id: str, term: str) -> SearchEntry:
    return SearchEntry(user_id=user_id, term=term)


def _bind_handle(handle: str, user_id: str, reservation: str) -> db.TxOp:
    """The transaction step that turns our reservation of ``handle`` into the user's handle."""
    return db.tx_update(
        Handle.key_of(handle),
        "SET userId = :user, #status = :active REMOVE #ttl",
        "reservation = :reservation",
        values={":user": user_id, ":active": "active", ":reservation": reservation},
        names={"#status": "status", "#ttl": keys.TTL_ATTRIBUTE},
        on_fail=_taken(handle),
    )


def create_profile(
    user_id: str, handle: str, email: str, name: str, reservation: str, *, confirmed: bool = True
) -> Profile:
    """The new user's profile, search entries and handle binding, in one transaction. An
    unconfirmed account is neither found nor followable until ``mark_confirmed``."""
    profile = Profile(
        user_id=user_id,
        username=handle,
        email=email,
        name=name,
        created_at=clock.now(),
        confirmed=confirmed,
    )
    db.get_store().transact_write(
        [
            db.tx_put(profile, "attribute_not_exists(PK)", on_fail=Conflict("user already exists")),
            _bind_handle(handle, user_id, reservation),
            *(db.tx_put(_search_item(user_id, t)) for t in sorted(search_terms(handle, name))),
        ]
    )
    return profile


def rename(current: Profile, handle: str, reservation: str | None) -> MeOut:
    """The user's handle becomes ``handle``, in one transaction: the new handle bound (its
    ``reservation``; None when only the letter case changes, the same handle), the old one freed,
    the profile and its search entries changed. A concurrent profile change is a 409."""
    old_terms = search_terms(current.username, current.name)
    new_terms = search_terms(handle, current.name)
    ops = [
        db.tx_update(
            current.key,
            "SET username = :handle, #version = #version + :one, updatedAt = :now",
            "#version = :expected AND attribute_not_exists(deletedAt)",
            values={
                ":handle": handle,
                ":one": 1,
                ":now": clock.now(),
                ":expected": current.version,
            },
            names={"#version": "version"},
            on_fail=Conflict(
                "username: the profile changed meanwhile; retry",
                [{"field": "username", "reason": "conflict"}],
            ),
        ),
        *(
            db.tx_delete(SearchEntry.key_of(current.user_id, t))
            for t in sorted(old_terms - new_terms)
        ),
        *(db.tx_put(_search_item(current.user_id, t)) for t in sorted(new_terms - old_terms)),
    ]
    if reservation is not None:
        ops += [
            _bind_handle(handle, current.user_id, reservation),
            db.tx_delete(
                Handle.key_of(current.username),
                "userId = :user",
                values={":user": current.user_id},
            ),
        ]
    db.get_store().transact_write(ops)
    renamed = current.model_copy(update={"username": handle, "version": current.version + 1})
    return me_view(renamed)


# Reading ---------------------------------------------------------------------------------------
def get_profile(user_id: str) -> Profile:
    """The live profile of ``user_id``; NotFound if there is none or it is being deleted."""
    profile = find_profile(user_id)
    if profile is None or profile.deleted_at:
        raise NotFound(USER_NOT_FOUND)
    return profile


def find_profile(user_id: str) -> Profile | None:
    """The profile item of ``user_id`` as stored, or None."""
    return db.get_store().get(Profile.key_of(user_id), Profile)


def me(user_id: str) -> MeOut:
    """The caller's own profile."""
    return me_view(get_profile(user_id))


def avatar_urls(profile: Profile) -> Renditions | None:
    """The avatar's rendition URLs (no request: its keys are kept on the profile, and URLs
    are the same for a window), or None without an avatar."""
    if not profile.avatar or not profile.avatar_keys:
        return None
    return Renditions(**{n: media.rendition_url(k) for n, k in profile.avatar_keys.items()})


def summary_of(profile: Profile) -> UserSummary:
    """A user in a list, with the avatar's URLs inline (a page of authors needs no media
    read)."""
    return profile.summary().model_copy(update={"avatar_urls": avatar_urls(profile)})


def me_view(profile: Profile) -> MeOut:
    return profile.me().model_copy(update={"avatar_urls": avatar_urls(profile)})


def user_id_for(handle: str) -> str:
    """The id of the active user holding ``handle`` (any case): one GetItem."""
    if not keys.fold(handle) or "#" in handle:
        raise NotFound(USER_NOT_FOUND)
    reservation = db.get_store().get(Handle.key_of(handle), Handle)
    if reservation is None or reservation.status != "active" or not reservation.user_id:
        raise NotFound(USER_NOT_FOUND)
    return reservation.user_id


def profile_by_handle(handle: str) -> Profile:
    """The live profile holding ``handle``; NotFound otherwise."""
    return _visible(get_profile(user_id_for(handle)))


def _visible(profile: Profile | None) -> Profile:
    if profile is None or not accounts.shown(profile):
        raise NotFound(USER_NOT_FOUND)
    return profile


def public_profile(caller_id: str, handle: str) -> PublicProfileOut:
    """Anyone's public profile with how the caller stands to them: two requests (the handle,
    then one BatchGetItem of the profile, both follow edges, the caller's pending request and
    the caller's block and mute of them, or theirs of the caller). Someone who blocks the
    caller is a 404 to them; someone the caller blocks is shown (``blocking``), so that they
    can unblock."""
    user_id = user_id_for(handle)
    profile_key = Profile.key_of(user_id)
    following, followed_by = Follow.key_of(caller_id, user_id), Follow.key_of(user_id, caller_id)
    requested = FollowRequest.key_of(user_id, caller_id)
    between = relations.keys_between(caller_id, user_id)
    found = db.get_store().batch_get([profile_key, following, followed_by, requested, *between])
    item = found.get(profile_key)
    profile = _visible(item if isinstance(item, Profile) else None)
    standing = relations.between(caller_id, user_id, found)
    if user_id in standing.blocked_by:
        raise NotFound(USER_NOT_FOUND)
    return profile.public(
        is_following=following in found,
        is_followed_by=followed_by in found,
        requested=requested in found,
        blocking=user_id in standing.blocking,
        muting=user_id in standing.muting,
    ).model_copy(update={"avatar_urls": avatar_urls(profile)})


def summary_map(user_ids: Iterable[str]) -> dict[str, UserSummary]:
    """Summaries of the live, visible users among ``user_ids``: one BatchGetItem."""
    return summaries_and_follows("", user_ids, ())[0]


def summaries_and_follows(
    caller_id: str, user_ids: Iterable[str], followed_candidates: Iterable[str]
) -> tuple[dict[str, UserSummary], set[str]]:
    """Summaries of the live, visible users among ``user_ids``, and which of
    ``followed_candidates`` the caller follows now: one BatchGetItem for both."""
    candidates = list(dict.fromkeys(followed_candidates))
    summaries, found = summaries_with(user_ids, [Follow.key_of(caller_id, u) for u in candidates])
    return summaries, {u for u in candidates if Follow.key_of(caller_id, u) in found}


def summaries_with(
    user_ids: Iterable[str], extra: Sequence[tuple[str, str]] = ()
) -> tuple[dict[str, UserSummary], dict[tuple[str, str], Any]]:
    """Summaries of the live, visible users among ``user_ids``, and every item found, the
    ``extra`` keys' included: one BatchGetItem."""
    keys_wanted = list(dict.fromkeys([*(Profile.key_of(u) for u in user_ids), *extra]))
    if not keys_wanted:
        return {}, {}
    found = db.get_store().batch_get(keys_wanted)
    hidden = relations.viewer().hidden  # blocked either way: never shown to the viewer
    summaries = {
        p.user_id: summary_of(p)
        for p in found.values()
        if isinstance(p, Profile) and accounts.shown(p) and p.user_id not in hidden
    }
    return summaries, dict(found)


def with_users(
    items: Sequence[T], user_of: Callable[[T], str], view: Callable[[T, UserSummary], R]
) -> list[R]:
    """``view(item, summary of its user)`` for each item whose user is live and visible (one
    BatchGetItem); items of users who are gone or hidden are left out."""
    found = summary_map(user_of(i) for i in items)
    return [view(i, found[user_of(i)]) for i in items if user_of(i) in found]


def summaries(user_ids: list[str]) -> list[UserSummary]:
    """Profile summaries of ``user_ids`` in that order (one BatchGetItem), skipping users who
    are gone or hidden."""
    found = summary_map(user_ids)
    return [found[u] for u in dict.fromkeys(user_ids) if u in found]


def search(q: str, limit: int, cursor: str | None) -> db.Page[UserSummary]:
    """Users whose handle or name (or a later word of it) starts with ``q``, any case or
    accent: one Query on the search index, one BatchGetItem of profiles."""
    term = keys.canonical(q).strip()
    if len(term) < keys.SEARCH_PREFIX_LENGTH or "#" in term:
        raise Invalid(
            f"q: at least {keys.SEARCH_PREFIX_LENGTH} letters or digits",
            [{"field": "q", "reason": "too_short"}],
        )
    page = db.get_store().query_page(
        keys.search_pk(term),
        index=keys.GSI1,
        sk_prefix=term,
        limit=limit,
        cursor=cursor,
        newest_first=False,
        model=SearchEntry,
    )
    return db.Page(summaries([i.user_id for i in page.items]), page.next_cursor)


# Mentions --------------------------------------------------------------------------------------
MAX_MENTIONS = 20
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.]{1,30})")


def mentioned(text: str, field: str) -> list[dict[str, str]]:
    """The users ``text`` names as ``@handle`` (any case), in order, once each, as
    ``{userId, username}`` with the handle as it is now; unknown handles stay plain text (one
    BatchGetItem). More than ``MAX_MENTIONS`` different handles is a 400 naming ``field``."""
    handles = list(dict.fromkeys(keys.fold(h.rstrip(".")) for h in _MENTION.findall(text)))
    handles = [h for h in handles if h and "#" not in h]
    if len(handles) > MAX_MENTIONS:
        raise Invalid(
            f"{field}: at most {MAX_MENTIONS} mentions",
            [{"field": field, "reason": "too_many_mentions"}],
        )
    if not handles:
        return []
    found = db.get_store().batch_get([Handle.key_of(h) for h in handles], Handle)
    mentions = []
    for h in handles:
        item = found.get(Handle.key_of(h))
        if item is not None and item.status == "active" and item.user_id:
            mentions.append({"userId": item.user_id, "username": item.handle})
    return mentions


# Updating --------------------------------------------------------------------------------------
def update_me(user_id: str, patch: MePatch, expected_version: int | None) -> MeOut:
    """Apply a JSON merge patch to the caller's profile as one conditional write of the changed
    paths (a transaction when the name, and so the search entries, change).

    The write is conditioned on the version it was planned from: with ``If-Match`` a stale
    version is a 409; without it, a concurrent change is retried on the new version.
    """
    given = patch.model_fields_set
    if "name" in given and patch.name is None:
        raise Invalid("name: cannot be removed", [{"field": "name", "reason": "required"}])
    if "private" in given and patch.private is None:
        raise Invalid(
            "private: true or false, not null", [{"field": "private", "reason": "required"}]
        )
    for part in ("profile", "settings"):
        if part in given and getattr(patch, part) is not None:
            documents.check_patch(getattr(patch, part), part)
    avatar_keys = None
    if "avatar" in given and patch.avatar is not None:
        chosen = media.check_attachable(user_id, patch.avatar, "avatar")
        avatar_keys = {n: r["key"] for n, r in (chosen.renditions or {}).items()}
    for _ in range(_PATCH_ATTEMPTS):
        current = get_profile(user_id)
        if expected_version is not None and current.version != expected_version:
            raise _stale(current.version)
        try:
            return _apply(current, patch, given, avatar_keys)
        except Conflict:
            if expected_version is not None:
                raise _stale(None) from None
    raise Conflict("the profile is changing too often; retry")


def _stale(version: int | None) -> Conflict:
    return Conflict(
        "If-Match: the profile has changed since that version",
        [{"field": "If-Match", "reason": "stale", "currentVersion": version}],
    )


def _apply(
    current: Profile, patch: MePatch, given: set[str], avatar_keys: dict[str, str] | None
) -> MeOut:
    plan = documents.UpdatePlan()
    state = current.model_dump(by_alias=True)
    for part in ("profile", "settings"):
        if part not in given:
            continue
        value = getattr(patch, part)
        if value is None:  # null replaces the whole document with an empty one
            if state[part]:
                plan.sets.append(((part,), {}))
            state[part] = {}
        else:
            documents.plan_update(state, {part: value}, (), plan)
            state[part] = documents.merge_patch(state[part], value)
    documents.check_document(state["profile"], state["settings"])
    if "name" in given and patch.name != current.name:
        plan.sets.append((("name",), patch.name))
        state["name"] = patch.name
    if "private" in given and patch.private != current.private:
        plan.sets.append((("private",), patch.private))
        state["private"] = patch.private
    if "avatar" in given and patch.avatar != current.avatar:
        if patch.avatar is None:
            plan.removes.append(("avatar",))
            if current.avatar_keys:
                plan.removes.append(("avatarKeys",))
        else:
            plan.sets.append((("avatar",), patch.avatar))
            plan.sets.append((("avatarKeys",), avatar_keys or {}))
        state["avatar"] = patch.avatar
        state["avatarKeys"] = avatar_keys if patch.avatar else None
    if not plan:
        return me_view(current)
    sets, removes, names, values = documents.update_expression(plan)
    sets += ["#version = #version + :one", "updatedAt = :now"]
    names["#version"] = "version"
    values.update({":one": 1, ":now": clock.now(), ":expected": current.version})
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    condition = "#version = :expected AND attribute_not_exists(deletedAt)"
    key = current.key
    store = db.get_store()
    if state["name"] == current.name and state["avatar"] == current.avatar:
        store.update(key, expression, condition=condition, values=values, names=names)
    else:
        # The search entries follow the name, and the avatar's media is marked in use (so
        # cleanup keeps it), in the same transaction as the profile.
        old = search_terms(current.username, current.name)
        new = search_terms(current.username, state["name"])
        ops = [
            db.tx_update(key, expression, condition, values=values, names=names),
            *(db.tx_delete(SearchEntry.key_of(current.user_id, t)) for t in sorted(old - new)),
            *(db.tx_put(_search_item(current.user_id, t)) for t in sorted(new - old)),
        ]
        if state["avatar"] != current.avatar:
            if current.avatar:
                ops.append(media.detach_op(current.avatar))
            if state["avatar"]:
                ops.append(media.attach_op(state["avatar"], current.user_id, "avatar"))
        store.transact_write(ops)
    state["version"] = current.version + 1
    return me_view(Profile.model_validate(state))


# Unconfirmed accounts --------------------------------------------------------------------------
def mark_confirmed(user_id: str) -> None:
    """The account's e-mail is confirmed: it is found and followable from now on (idempotent)."""
    try:
        db.get_store().update(
            Profile.key_of(user_id),
            "SET confirmed = :yes REMOVE #i3pk, #i3sk",
            condition="attribute_exists(PK) AND confirmed = :no",
            values={":yes": True, ":no": False},
        )
    except Conflict:
        return  # confirmed already (or made before confirmation was recorded)
    accounts.forget(user_id)


def unconfirmed(limit: int) -> list[Profile]:
    """The oldest accounts still unconfirmed (one Query of their index)."""
    page = db.get_store().query_page(
        keys.UNCONFIRMED_PK, index=keys.GSI3, limit=limit, newest_first=False, model=Profile
    )
    return page.items


def remove_unconfirmed(profile: Profile) -> bool:
    """Delete an account that never confirmed: its profile, its handle (free for anyone again)
    and its search entries, in one transaction, only while it is still unconfirmed. False
    when it was confirmed meanwhile (nothing removed)."""
    still = Conflict("confirmed meanwhile")
    return db.get_store().transact_unless(
        [
            db.tx_delete(profile.key, "confirmed = :no", values={":no": False}, on_fail=still),
            db.tx_delete(
                Handle.key_of(profile.username),
                "attribute_not_exists(PK) OR userId = :user",
                values={":user": profile.user_id},
            ),
            *(
                db.tx_delete(SearchEntry.key_of(profile.user_id, t))
                for t in sorted(search_terms(profile.username, profile.name))
            ),
        ],
        unless=still,
    )


# Moderation ------------------------------------------------------------------------------------
def mark_disabled(profile: Profile, by_user_id: str) -> None:
    """Record that ``profile`` was disabled, by whom and when (idempotent)."""
    db.get_store().update(
        profile.key,
        "SET disabled = :yes, disabledAt = :at, disabledBy = :by",
        condition="attribute_exists(PK)",
        values={":yes": True, ":at": clock.now(), ":by": by_user_id},
        on_fail=NotFound(USER_NOT_FOUND),
    )
    accounts.forget(profile.user_id)
