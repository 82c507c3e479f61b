"""Every DynamoDB key format of the single table, as small pure functions.

The table has PK/SK and three overloaded GSIs (GSI1PK/GSI1SK ... GSI3PK/GSI3SK). Ids are ULIDs
(time-sortable), so an SK built from an id sorts by creation time. ``docs/data-model.md`` lists
which request uses which key. No other module writes a key string.
"""

from __future__ import annotations

import re
import unicodedata

PK, SK = "PK", "SK"
GSI1, GSI2, GSI3 = "GSI1", "GSI2", "GSI3"
GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK = (
    "GSI1PK",
    "GSI1SK",
    "GSI2PK",
    "GSI2SK",
    "GSI3PK",
    "GSI3SK",
)
#: attribute names of each index's (partition, sort) key; None is the table itself
INDEX_KEYS: dict[str | None, tuple[str, str]] = {
    None: (PK, SK),
    GSI1: (GSI1PK, GSI1SK),
    GSI2: (GSI2PK, GSI2SK),
    GSI3: (GSI3PK, GSI3SK),
}
KEY_ATTRIBUTES = frozenset(name for pair in INDEX_KEYS.values() for name in pair)
#: how update and condition expressions name the index key attributes (``SET #i3pk = :big``);
#: the store adds the ExpressionAttributeNames of those an expression uses
INDEX_PLACEHOLDERS = {
    "#i1pk": GSI1PK,
    "#i1sk": GSI1SK,
    "#i2pk": GSI2PK,
    "#i2sk": GSI2SK,
    "#i3pk": GSI3PK,
    "#i3sk": GSI3SK,
}


def index_names(*expressions: str | None) -> dict[str, str]:
    """The ExpressionAttributeNames of the ``INDEX_PLACEHOLDERS`` that ``expressions`` use
    (DynamoDB refuses names an expression does not use)."""
    text = " ".join(e for e in expressions if e)
    return {
        placeholder: name
        for placeholder, name in INDEX_PLACEHOLDERS.items()
        if re.search(rf"{placeholder}\b", text)
    }


TTL_ATTRIBUTE = "ttl"

PROFILE_SK = "PROFILE"
HANDLE_SK = "HANDLE"
MEDIA_SK = "MEDIA"
POST_SK = "POST"
IDEMPOTENCY_SK = "IDEMPOTENCY"


def _part(value: str) -> str:
    """One component of a key: non-empty and free of the separator."""
    if not value or "#" in value:
        raise ValueError(f"invalid key component: {value!r}")
    return value


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for handles and search keys."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def canonical(text: str) -> str:
    """``fold`` until it changes nothing. ``fold`` is not idempotent for 636 code points (NFKD
    after casefold: U+210C, a black-letter H, folds to "H", which folds to "h"), so two
    different folded texts can share one key; a fixed point of ``fold`` is its own key. Two
    rounds suffice for every single code point; four bound it."""
    for _ in range(4):
        folded = fold(text)
        if folded == text:
            break
        text = folded
    return text


# Users -----------------------------------------------------------------------------------------
def user_pk(user_id: str) -> str:
    """Partition of everything a user owns directly (profile, follow edges out)."""
    return f"USER#{_part(user_id)}"


def handle_pk(handle: str) -> str:
    """Reservation of a handle; case-insensitive, so ``Ana`` and ``ana`` collide."""
    return f"HANDLE#{_part(fold(handle))}"


SEARCH_PREFIX_LENGTH = 2  # a search needs this many characters: they pick the partition


def search_pk(term: str) -> str:
    """GSI1 partition of the search items: the first two folded characters of a term."""
    return f"SEARCH#{_part(fold(term)[:SEARCH_PREFIX_LENGTH])}"


def search_sk(term: str, user_id: str) -> str:
    """GSI1 sort key of a search item: queried with ``begins_with`` on the folded prefix."""
    return f"{_part(fold(term))}#{_part(user_id)}"


def search_item_sk(term: str) -> str:
    """SK of a user's search item for one term, under ``user_pk``."""
    return f"SEARCH#{_part(fold(term))}"


SEARCH_ITEM_PREFIX = "SEARCH#"


# Follow graph ----------------------------------------------------------------------------------
def follow_sk(followee_id: str) -> str:
    """SK of the edge item under ``user_pk(follower)``: one item per edge, checked on write."""
    return f"FOLLOWS#{_part(followee_id)}"


FOLLOW_PREFIX = "FOLLOWS#"


def follow_request_sk(requester_id: str) -> str:
    """SK of a follow request under ``user_pk(owner)`` (the private account asked)."""
    return f"{FOLLOW_REQUEST_PREFIX}{_part(requester_id)}"


FOLLOW_REQUEST_PREFIX = "REQUEST#"


def follow_requests_pk(user_id: str) -> str:
    """GSI1 partition of the follow requests waiting for ``user_id``, newest first."""
    return f"FOLLOW_REQUESTS#{_part(user_id)}"


def requests_by_pk(user_id: str) -> str:
    """GSI2 partition of the follow requests ``user_id`` made (removed with their account)."""
    return f"REQUESTS_BY#{_part(user_id)}"


RELATION_PREFIX = "REL#"  # a user's blocks, blocks against them and mutes, read in one Query


def relation_sk(kind: str, other_id: str) -> str:
    """SK of a relation under ``user_pk``: ``REL#BLOCKS#<other>`` (I block them),
    ``REL#BLOCKEDBY#<other>`` (they block me: the mirror, so one Query reads both ways),
    ``REL#MUTES#<other>``."""
    return f"{RELATION_PREFIX}{_part(kind)}#{_part(other_id)}"


def muted_by_pk(user_id: str) -> str:
    """GSI1 partition of the mutes of ``user_id`` by others (removed with their account)."""
    return f"MUTED_BY#{_part(user_id)}"


def relation_list_pk(kind: str, user_id: str) -> str:
    """GSI2 partition listing whom ``user_id`` blocks (``BLOCKS``) or mutes (``MUTES``),
    newest first (sort key: ``edge_sk``)."""
    return f"{_part(kind)}_LIST#{_part(user_id)}"


def edge_sk(edge_id: str, other_id: str) -> str:
    """GSI sort key of a follow edge in a followers/following list: time-sortable edge id."""
    return f"{_part(edge_id)}#{_part(other_id)}"


def edge_id_of(edge_index_sk: str) -> str:
    """The edge id inside an ``edge_sk`` (edges written before they stored it)."""
    return edge_index_sk.split("#", 1)[0]


def followers_pk(user_id: str) -> str:
    """GSI1 partition listing a user's followers (edges point at them), newest first."""
    return f"FOLLOWERS#{_part(user_id)}"


def following_pk(user_id: str) -> str:
    """GSI2 partition listing whom a user follows, newest first."""
    return f"FOLLOWING#{_part(user_id)}"


# Media and posts -------------------------------------------------------------------------------
def media_pk(media_id: str) -> str:
    """A media item (an upload and its renditions)."""
    return f"MEDIA#{_part(media_id)}"


def user_media_pk(user_id: str) -> str:
    """GSI1 partition of a user's media, newest first (deletion, export, pending quota)."""
    return f"MEDIA_OF#{_part(user_id)}"


def media_listing_sk(status: str, media_id: str) -> str:
    """GSI1 sort key of a media item under ``user_media_pk``: its status, then its id."""
    return f"{_part(status)}#{_part(media_id)}"


def media_listing_prefix(status: str) -> str:
    """The ``media_listing_sk`` prefix of a user's media in ``status`` (the pending quota)."""
    return f"{_part(status)}#"


def upload_slots_pk(user_id: str) -> str:
    """A user's count of unfinished uploads (the pending cap), SK ``SLOTS``."""
    return f"UPLOADS#{_part(user_id)}"


SLOTS_SK = "SLOTS"


def media_state_pk(state: str) -> str:
    """GSI3 partition of media waiting for cleanup: ``pending`` uploads, ``unattached`` ones
    (ready but used by no post or avatar); sort key: the media id, oldest first."""
    return f"MEDIA_STATE#{_part(state)}"


def post_pk(post_id: str) -> str:
    """Partition of a post with its likes and comments."""
    return f"POST#{_part(post_id)}"


def user_posts_pk(user_id: str) -> str:
    """GSI1 partition of a user's posts (sort key: the post id, a ULID)."""
    return f"POSTS#{_part(user_id)}"


LIKE_PREFIX, COMMENT_PREFIX, REPORT_PREFIX = "LIKE#", "COMMENT#", "REPORT#"
BOOKMARK_PREFIX, VERSION_PREFIX = "BOOKMARK#", "VERSION#"


REPLY_PREFIX = "REPLY#"


def reply_sk(top_id: str, reply_id: str) -> str:
    """SK of a reply under ``post_pk``: with its top comment's other replies, oldest first."""
    return f"{REPLY_PREFIX}{_part(top_id)}#{_part(reply_id)}"


def replies_prefix(top_id: str) -> str:
    return f"{REPLY_PREFIX}{_part(top_id)}#"


def reply_id_pk(post_id: str, reply_id: str) -> str:
    """GSI3 partition finding a reply by its id (a reply's key names its top comment)."""
    return f"REPLY#{_part(post_id)}#{_part(reply_id)}"


def bookmark_sk(user_id: str) -> str:
    """SK of a user's bookmark under ``post_pk``."""
    return f"{BOOKMARK_PREFIX}{_part(user_id)}"


def bookmarks_pk(user_id: str) -> str:
    """GSI1 partition of a user's bookmarks, newest saved first."""
    return f"BOOKMARKS#{_part(user_id)}"


def post_version_sk(version: int) -> str:
    """SK of an earlier version under ``post_pk``: zero-padded, so they list oldest first."""
    return f"{VERSION_PREFIX}{version:010d}"


def like_sk(user_id: str) -> str:
    return f"{LIKE_PREFIX}{_part(user_id)}"


def likes_by_pk(user_id: str) -> str:
    """GSI1 partition of the likes a user gave (account deletion)."""
    return f"LIKES_BY#{_part(user_id)}"


def comment_sk(comment_id: str) -> str:
    return f"{COMMENT_PREFIX}{_part(comment_id)}"


def comments_by_pk(user_id: str) -> str:
    """GSI1 partition of the comments a user wrote (account deletion)."""
    return f"COMMENTS_BY#{_part(user_id)}"


def timeline_pk(user_id: str) -> str:
    """A user's home-feed partition (post references fanned out on write)."""
    return f"FEED#{_part(user_id)}"


def hashtag_pk(tag: str) -> str:
    return f"TAG#{_part(fold(tag))}"


def tag_stats_pk(tag: str) -> str:
    """A hashtag's counters (apart from ``hashtag_pk``, whose Query lists posts only)."""
    return f"TAGSTATS#{_part(fold(tag))}"


TAG_STATS_SK = "STATS"


def explore_pk(bucket: str) -> str:
    """GSI2 partition of recent public posts, one per hour (``YYYYMMDDHH``)."""
    return f"EXPLORE#{_part(bucket)}"


BIG_ACCOUNTS_PK = "BIG_ACCOUNTS"  # GSI3 partition of accounts whose posts are not fanned out
#: GSI3 partition of accounts not confirmed yet, oldest first (they expire)
UNCONFIRMED_PK = "UNCONFIRMED"


def unconfirmed_sk(created_at: str, user_id: str) -> str:
    """GSI3 sort key of an unconfirmed account: when it signed up, then its id."""
    return f"{_part(created_at)}#{_part(user_id)}"


# Activity, moderation, limits ------------------------------------------------------------------
def activity_pk(user_id: str) -> str:
    """A user's notifications, newest first (ttl 90 days)."""
    return f"ACTIVITY#{_part(user_id)}"


def actor_activity_pk(user_id: str) -> str:
    """GSI2 partition of the notifications a user caused (removed with their account)."""
    return f"ACTIVITY_BY#{_part(user_id)}"


def notified_pk(owner_id: str) -> str:
    """Marks of what already notified ``owner_id`` lately (one per actor and target)."""
    return f"NOTIFIED#{_part(owner_id)}"


def notified_sk(kind: str, actor_id: str, target: str) -> str:
    return f"{_part(kind)}#{_part(actor_id)}#{_part(target)}"


def post_activity_pk(post_id: str) -> str:
    """GSI1 partition of the notifications about a post (removed with it)."""
    return f"ACTIVITY_OF#{_part(post_id)}"


def reported_pk(target_type: str, target_id: str) -> str:
    """Partition of everything reported about one target (a post, a comment, a user): its open
    case, its resolved cases, and each report filed."""
    return f"REPORTED#{_part(target_type)}#{_part(target_id)}"


OPEN_CASE_SK = "CASE#OPEN"


def resolved_case_sk(case_id: str) -> str:
    """SK of a resolved case under ``reported_pk`` (kept for the record)."""
    return f"CASE#{_part(case_id)}"


def filed_report_sk(case_id: str, reporter_id: str) -> str:
    """SK of one report under ``reported_pk``: one per reporter per case (round of reports)."""
    return f"{REPORT_PREFIX}{_part(case_id)}#{_part(reporter_id)}"


def report_id_pk(report_id: str) -> str:
    """GSI3 partition finding one report by its id (``/admin/reports/{reportId}/resolve``)."""
    return f"REPORT#{_part(report_id)}"


def report_queue_pk(status: str) -> str:
    """GSI1 partition of the moderation queue: ``open`` or ``resolved`` cases, newest first."""
    return f"REPORTS#{_part(status)}"


def reports_by_pk(user_id: str) -> str:
    """GSI2 partition of the reports a user filed (account deletion)."""
    return f"REPORTS_BY#{_part(user_id)}"


def moderation_log_pk(month: str) -> str:
    """Who did what to whom, one partition per month (``YYYYMM``)."""
    return f"MODLOG#{_part(month)}"


def rate_limit_pk(scope: str, subject: str) -> str:
    """A fixed-window counter of ``subject`` (a digest: no address or e-mail is stored);
    the SK is ``rate_window_sk``, and the item expires by TTL."""
    return f"RATE#{_part(scope)}#{_part(subject)}"


def idempotency_pk(user_id: str, operation: str, key: str) -> str:
    return f"IDEMPOTENCY#{_part(user_id)}#{_part(operation)}#{_part(key)}"


def rate_window_sk(window_start: int) -> str:
    """SK of one fixed window of a rate-limit counter (epoch seconds of its start)."""
    return f"WINDOW#{window_start}"


# Background jobs -------------------------------------------------------------------------------
JOB_SK = "JOB"
PENDING_JOBS_PK = "JOBS#pending"  # GSI1 partition of unfinished jobs, oldest first


def job_pk(job_id: str) -> str:
    """A background job (account deletion, data export); its stream events drive it."""
    return f"JOB#{_part(job_id)}"


def user_jobs_pk(user_id: str) -> str:
    """GSI2 partition of a user's jobs, newest first."""
    return f"JOBS#{_part(user_id)}"


# Real time and push ----------------------------------------------------------------------------
CONNECTION_SK = "CONNECTION"
CONNECTIONS_SK = "CONNECTIONS"
PUSH_DEVICE_PREFIX = "PUSHDEV#"


def connection_pk(connection_id: str) -> str:
    """An open WebSocket connection: whose it is and what it watches."""
    return f"WS#{_part(connection_id)}"


def presence_pk(user_id: str) -> str:
    """The ids of a user's open WebSocket connections (one item: a push reads it once)."""
    return f"WSUSER#{_part(user_id)}"


def watchers_pk(post_id: str) -> str:
    """The connections watching a post's comments (one item)."""
    return f"WSWATCH#{_part(post_id)}"


def push_device_sk(device_id: str) -> str:
    """A registered phone, under its owner's profile (``USER#<id>``)."""
    return f"{PUSH_DEVICE_PREFIX}{_part(device_id)}"


def push_token_pk(device_id: str) -> str:
    """GSI2 partition of the accounts that registered one (platform, token): a phone that
    changes hands leaves its old account."""
    return f"PUSHTOKEN#{_part(device_id)}"


def push_window_pk(user_id: str) -> str:
    """The grouping windows of pushes to ``user_id`` (one item per kind and target)."""
    return f"PUSHWIN#{_part(user_id)}"


def push_window_sk(kind: str, target: str) -> str:
    return f"{_part(kind)}#{_part(target)}"


# Item kinds ------------------------------------------------------------------------------------
_KINDS: tuple[tuple[str, str | None, str], ...] = (
    # (PK prefix, SK exact value or prefix ending in '#', entity kind); first match wins
    ("USER#", PROFILE_SK, "profile"),
    ("USER#", FOLLOW_PREFIX, "follow"),
    ("USER#", SEARCH_ITEM_PREFIX, "search"),
    ("USER#", FOLLOW_REQUEST_PREFIX, "follow_request"),
    ("USER#", "REL#BLOCKS#", "block"),
    ("USER#", "REL#BLOCKEDBY#", "blocked_by"),
    ("USER#", "REL#MUTES#", "mute"),
    ("USER#", "REL#TAGS#", "tag_follow"),
    ("TAGSTATS#", TAG_STATS_SK, "tag_stats"),
    ("HANDLE#", HANDLE_SK, "handle"),
    ("POST#", POST_SK, "post"),
    ("POST#", LIKE_PREFIX, "like"),
    ("POST#", COMMENT_PREFIX, "comment"),
    ("POST#", REPLY_PREFIX, "comment"),
    ("POST#", BOOKMARK_PREFIX, "bookmark"),
    ("POST#", VERSION_PREFIX, "post_version"),
    ("REPORTED#", "CASE#", "report_case"),
    ("REPORTED#", REPORT_PREFIX, "report"),
    ("MEDIA#", MEDIA_SK, "media"),
    ("UPLOADS#", SLOTS_SK, "upload_slots"),
    ("JOB#", JOB_SK, "job"),
    ("FEED#", None, "timeline"),
    ("TAG#", None, "hashtag"),
    ("ACTIVITY#", None, "notification"),
    ("NOTIFIED#", None, "notified"),
    ("MODLOG#", None, "modlog"),
    ("RATE#", None, "rate"),
    ("IDEMPOTENCY#", IDEMPOTENCY_SK, "idempotency"),
    ("USER#", PUSH_DEVICE_PREFIX, "push_device"),
    ("WS#", CONNECTION_SK, "ws_connection"),
    ("WSUSER#", CONNECTIONS_SK, "ws_presence"),
    ("WSWATCH#", CONNECTIONS_SK, "ws_watchers"),
    ("PUSHWIN#", None, "push_window"),
)


def kind_of(pk: str, sk: str) -> str | None:
    """What kind of item lives at (pk, sk), from its key alone (the stream router's switch)."""
    for prefix, sort, kind in _KINDS:
        if not pk.startswith(prefix):
            continue
        if sort is None or sk == sort or (sort.endswith("#") and sk.startswith(sort)):
            return kind
    return None
