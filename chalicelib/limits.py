"""The abuse limits: every limit's production value, and the classes of write a route counts.

A leaf (no imports): ``app.py`` checks each route's ``limit`` against ``ROUTE_LIMITS`` at import
time, and the settings model (``chalicelib.settings``) validates a stage's overrides against
``DEFAULT_RATE_LIMITS``; ``chalicelib.ratelimit`` counts them.
"""

from __future__ import annotations

#: Abuse limits (production values), "hits/seconds" per fixed window. A stage overrides any of
#: them with RATE_LIMITS, a JSON object of the same shape (the local stage is generous, tests
#: are strict). Mastodon allows 5 sign-ups per 30 minutes per address; so do we.
DEFAULT_RATE_LIMITS: dict[str, str] = {
    "signup_ip": "5/1800",
    "login_ip": "60/300",
    "login_account": "10/900",
    "mfa_ip": "60/300",
    "mfa_account": "10/300",
    "code_ip": "30/900",  # confirmation and reset codes
    "code_account": "10/900",
    "forgot_ip": "10/3600",
    "forgot_account": "5/3600",
    "rename_account": "2/1209600",  # username changes: 2 in 14 days, as Instagram allows
    # Every route (app.py's ``route(limit=...)``): the API as a whole per account (Mastodon's
    # 300 requests per 5 minutes) and per address (generous: many people share one NAT; the
    # WAF's rate-based rule is the edge's own per-address limit), then each class of write.
    "api_account": "300/300",
    "api_ip": "1500/300",
    "posts_account": "100/3600",
    "comments_account": "200/3600",
    "likes_account": "500/3600",  # likes and unlikes (a toggle notifies once anyway)
    "follows_account": "400/86400",  # Mastodon: 400 follows a day
    "reports_account": "30/3600",
    "media_account": "60/1800",  # Mastodon: 30 uploads per 30 minutes; ours include avatars
    "search_account": "120/300",
}
#: the route classes of ``route(limit=...)``: each is counted against ``<class>_account``
ROUTE_LIMITS = ("posts", "comments", "likes", "follows", "reports", "media", "search")
