"""Scale on paper: a million accounts, a power-law follower graph, the real fan-out rules.

The rules and constants come from the app itself (imported, not copied): the big-account threshold
(`Settings.fanout_max_followers`, FANOUT_MAX_FOLLOWERS), the timeline depth (`timelines.LIST_CAP`),
the trim rate (`timelines.TIMELINE_TRIM_ONE_IN`, and `timelines.trim_due` on the simulated ids),
the timeline TTL, the backfill depth, and how many big accounts the feed reads
(`feed.big_accounts` asks for one page of `BIG_ACCOUNTS_PAGE`).

The model (every assumption a parameter, printed with the results):
- follower counts by rank follow Zipf: followers(r) = A / r^s, capped at the population, with A
  chosen so the mean is --mean-follows (every follow is one account's follower);
- each account posts --posts-per-day, independently of its size; each user follows accounts
  in proportion to their follower counts (so the share of follows that point at big accounts is
  the share of edges into them), --mean-follows each on average (log-normal spread);
- feed reads per active user per day --feed-reads; likes per post view --like-rate.

Prints: writes per post (fan-out), timeline storage, the effect of the threshold, the hot
partition of a viral post against DynamoDB's per-partition write limit, and a monthly cost per
million monthly active users from requests per call. Runs in seconds.

    .venv/bin/python bench/scale.py [--accounts 1000000] [--zipf 1.0] [--threshold N]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The settings module validates the environment only when asked (get_settings): reading the
# declared default of a field needs no stage.
from chalicelib import timelines  # noqa: E402
from chalicelib.settings import Settings  # noqa: E402

THRESHOLD = Settings.model_fields["fanout_max_followers"].default
BIG_ACCOUNTS_PAGE = 100  # feed.big_accounts(): query_page(BIG_ACCOUNTS_PK, limit=100), one page

# DynamoDB limits and prices (on-demand, us-east-1, as published in 2025; change them here)
PARTITION_WCU = 1000  # write units per second per partition (and per item)
PARTITION_RCU = 3000
PRICE_PER_MILLION_WRU = 0.625
PRICE_PER_MILLION_RRU = 0.125
PRICE_GB_MONTH = 0.25
PRICE_LAMBDA_MILLION = 0.20
PRICE_LAMBDA_GB_SECOND = 0.0000166667
PRICE_APIGW_MILLION = 3.50  # REST API, first 333 M requests a month
LAMBDA_GB = 0.5  # .chalice/config.json: api_handler 512 MB

# Requests per call, as the tests count them (tests/service: dynamodb_calls) and issue 13 measured;
# (read request units, write request units) per call with the app's item sizes (posts < 1 KB,
# eventually consistent reads: 0.5 RRU per item per 4 KB; transactions cost double).
CALLS = {
    # route: (DynamoDB requests, RRU, WRU, calls per MAU per month)
    "GET /feed (page of 20)": (3, 0.5 + 10 + 10, 0, 0),  # Query, BatchGet posts+likes, authors
    "GET /posts/{id}": (3, 1.5, 0, 60),
    "GET /users/{u}": (2, 1.0, 0, 30),
    "GET /users/{u}/posts": (6, 11.0, 0, 30),
    "GET /posts/{id}/comments": (3, 10.5, 0, 20),
    "POST like": (2, 0.5, 4, 60),  # GetItem post, TransactWriteItems (2 items x 2)
    "POST comment": (3, 1.0, 4, 10),
    "POST /posts (+ upload)": (4, 1.0, 8, 6),
    "POST follow": (2, 0.5, 6, 4),
}
TIMELINE_ITEM_BYTES = 180  # PK TL#<id>, SK <postId>, postId, authorId, expiresAt + overhead


def follower_counts(accounts: int, s: float, mean: float) -> list[int]:
    """Followers of each account by rank: Zipf with exponent ``s``, capped at accounts - 1,
    scaled so the mean is ``mean`` (a few fixed-point rounds: the cap moves the mean)."""
    weights = [r**-s for r in range(1, accounts + 1)]
    total = sum(weights)
    scale = mean * accounts / total
    for _ in range(30):
        counts = [min(accounts - 1, int(scale * w)) for w in weights]
        got = sum(counts) / accounts
        if abs(got - mean) / mean < 0.001:
            break
        scale *= mean / max(got, 1e-9)
    return counts


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fan_out(counts: list[int], threshold: int, posts_per_day: float) -> dict:
    """What a day of posts costs through feed.fan_out's rule: a post of an account with fewer
    than ``threshold`` followers is copied into every follower's timeline."""
    small = [c for c in counts if c < threshold]
    big = [c for c in counts if c >= threshold]
    edges = sum(counts)
    copies_per_post = sorted(small)  # writes of one post = its author's follower count
    per_post = statistics.fmean(small) if small else 0.0
    posts = len(counts) * posts_per_day
    return {
        "big_accounts": len(big),
        "edges": edges,
        "edges_into_big": sum(big),
        "writes_per_post_mean": per_post,
        "writes_per_post_p50": percentile(copies_per_post, 0.5) if small else 0,
        "writes_per_post_p99": percentile(copies_per_post, 0.99) if small else 0,
        "writes_per_post_max": copies_per_post[-1] if small else 0,
        "timeline_writes_per_day": sum(small) * posts_per_day,
        "trim_queries_per_day": sum(small) * posts_per_day / timelines.TIMELINE_TRIM_ONE_IN,
        "posts_per_day": posts,
    }


def trim_rate_check(samples: int) -> float:
    """The real ``timelines.trim_due`` on simulated (follower, post) ids: its share of copies."""
    rng = random.Random(7)
    due = sum(
        timelines.trim_due(f"u{rng.getrandbits(40):x}", f"p{rng.getrandbits(60):x}")
        for _ in range(samples)
    )
    return due / samples


def timeline_storage(
    counts: list[int], threshold: int, posts_per_day: float, mean_follows: float, users: int
) -> dict:
    """Timeline entries per user: the posts of the small accounts they follow within the TTL,
    at most LIST_CAP (trims keep it near there; entries past the cap wait for a trim)."""
    edges = sum(counts)
    share_small = sum(c for c in counts if c < threshold) / edges if edges else 0.0
    ttl_days = timelines.TIMELINE_TTL_SECONDS / 86400
    rng = random.Random(11)
    sigma = 1.0  # log-normal spread of how many accounts a user follows
    mu = math.log(mean_follows) - sigma**2 / 2
    entries = []
    for _ in range(users):
        follows = rng.lognormvariate(mu, sigma)
        inflow = follows * share_small * posts_per_day * ttl_days
        entries.append(min(timelines.LIST_CAP, inflow))
    entries.sort()
    mean = statistics.fmean(entries)
    at_cap = sum(1 for e in entries if e >= timelines.LIST_CAP) / len(entries)
    followed_big = mean_follows * (1 - share_small)
    return {
        "entries_mean": mean,
        "entries_p99": percentile(entries, 0.99),
        "share_at_cap": at_cap,
        "share_of_follows_to_big": 1 - share_small,
        "followed_big_mean": followed_big,
        "bytes_per_user": mean * TIMELINE_ITEM_BYTES,
    }


def hot_partition(top_followers: int, like_share: float, decay_minutes: float) -> dict:
    """A viral post: likes arrive at followers x like_share, decaying exponentially with
    ``decay_minutes``; the peak rate is at the start. Each like is one TransactWriteItems of two
    items in the post's partition (the like, and the counter): 2 items x 2 (transactional) = 4
    WCU, and every like updates the one counter item."""
    peak_likes = top_followers * like_share / (decay_minutes * 60)
    wcu_per_like = 4
    return {
        "peak_likes_per_s": peak_likes,
        "peak_wcu": peak_likes * wcu_per_like,
        "max_likes_per_s": PARTITION_WCU / wcu_per_like,
        "audience_at_limit": PARTITION_WCU / wcu_per_like * decay_minutes * 60 / like_share,
    }


def monthly_cost(fan: dict, storage: dict, accounts: int, mau: int, feed_reads: float) -> dict:
    """Per million monthly active users: API calls from CALLS, feeds from --feed-reads, fan-out
    writes and timeline storage scaled from the simulated population to ``mau``."""
    scale = mau / accounts
    rru = wru = requests = calls = 0.0
    for route, (reqs, r, w, per_mau) in CALLS.items():
        per_month = feed_reads * 30 if route.startswith("GET /feed") else per_mau
        n = per_month * mau
        calls += n
        requests += n * reqs
        rru += n * r
        wru += n * w
    # read-time merge of followed big accounts: one Query each (one page), one BatchGet of edges
    feeds = feed_reads * 30 * mau
    merged = min(storage["followed_big_mean"], BIG_ACCOUNTS_PAGE)
    rru += feeds * (merged * 0.5 + 0.5 * math.ceil(fan["big_accounts_read"] / 100))
    requests += feeds * (merged + 1)
    fan_wru = fan["timeline_writes_per_day"] * 30 * scale
    trims_rru = fan["trim_queries_per_day"] * 30 * scale * 4  # a Query of ~1,000 keys: ~4 RRU
    wru += fan_wru
    rru += trims_rru
    gb = storage["bytes_per_user"] * mau / 1e9
    dynamo = rru / 1e6 * PRICE_PER_MILLION_RRU + wru / 1e6 * PRICE_PER_MILLION_WRU
    lambda_cost = (
        calls / 1e6 * PRICE_LAMBDA_MILLION + calls * 0.08 * LAMBDA_GB * PRICE_LAMBDA_GB_SECOND
    )
    return {
        "api_calls": calls,
        "dynamodb_requests": requests,
        "rru": rru,
        "wru": wru,
        "fan_out_wru": fan_wru,
        "timeline_gb": gb,
        "usd_dynamodb": dynamo,
        "usd_storage": gb * PRICE_GB_MONTH,
        "usd_lambda": lambda_cost,
        "usd_apigw": calls / 1e6 * PRICE_APIGW_MILLION,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--zipf", type=float, default=1.0, help="exponent s of followers ~ 1/r^s")
    parser.add_argument("--mean-follows", type=float, default=100.0)
    parser.add_argument("--posts-per-day", type=float, default=0.2)
    parser.add_argument("--feed-reads", type=float, default=8.0, help="per active user per day")
    parser.add_argument("--threshold", type=int, default=THRESHOLD)
    parser.add_argument("--like-share", type=float, default=0.05, help="of the audience")
    parser.add_argument("--decay-minutes", type=float, default=30.0)
    parser.add_argument("--users-sampled", type=int, default=200_000)
    args = parser.parse_args()
    started = time.monotonic()
    random.seed(1)

    counts = follower_counts(args.accounts, args.zipf, args.mean_follows)
    top = max(counts)
    print(
        f"graph: {args.accounts:,} accounts, followers ~ 1/rank^{args.zipf}, mean "
        f"{statistics.fmean(counts):.0f}, median {statistics.median(counts):.0f}, top {top:,}; "
        f"{args.posts_per_day} posts/account/day"
    )
    print(
        f"rules (from chalicelib): big-account threshold {THRESHOLD:,} followers, timeline cap "
        f"{timelines.LIST_CAP}, trim 1 copy in {timelines.TIMELINE_TRIM_ONE_IN} (trim_due "
        f"measured: 1 in {1 / trim_rate_check(200_000):.1f}), TTL "
        f"{timelines.TIMELINE_TTL_SECONDS // 86400} d, the feed reads {BIG_ACCOUNTS_PAGE} big "
        f"accounts at most"
    )

    print("\n1. writes per post and per day (fan-out on write), by big-account threshold")
    print(
        f"{'threshold':>10} {'big accts':>10} {'mean':>7} {'p50':>5} {'p99':>7} {'max':>7}"
        f" {'timeline writes/day':>20} {'follows to big':>15} {'merged/feed read':>17}"
    )
    chosen = None
    for threshold in sorted({500, 1000, args.threshold, 20_000, 100_000, args.accounts}):
        fan = fan_out(counts, threshold, args.posts_per_day)
        store = timeline_storage(
            counts, threshold, args.posts_per_day, args.mean_follows, args.users_sampled // 10
        )
        mark = " <- app" if threshold == args.threshold else ""
        print(
            f"{threshold:>10,} {fan['big_accounts']:>10,} {fan['writes_per_post_mean']:>7.1f}"
            f" {fan['writes_per_post_p50']:>5.0f} {fan['writes_per_post_p99']:>7,.0f}"
            f" {fan['writes_per_post_max']:>7,}"
            f" {fan['timeline_writes_per_day']:>20,.0f} {store['share_of_follows_to_big']:>15.1%}"
            f" {store['followed_big_mean']:>17.1f}{mark}"
        )
        if threshold == args.threshold:
            chosen = fan
    assert chosen is not None
    unseen = max(0, chosen["big_accounts"] - BIG_ACCOUNTS_PAGE)
    print(
        f"  at the app's threshold: {chosen['big_accounts']:,} big accounts, the feed merges "
        f"the first {BIG_ACCOUNTS_PAGE}: {unseen:,} big accounts' posts reach no feed"
        if unseen
        else "  at the app's threshold every big account is merged at read"
    )

    print("\n2. timeline storage (entries within the TTL, capped)")
    store = timeline_storage(
        counts, args.threshold, args.posts_per_day, args.mean_follows, args.users_sampled
    )
    print(
        f"  entries per user: mean {store['entries_mean']:.0f}, p99 {store['entries_p99']:.0f},"
        f" {store['share_at_cap']:.1%} at the cap; {store['bytes_per_user'] / 1024:.0f} KiB per"
        f" user; {store['bytes_per_user'] * args.accounts / 1e9:.1f} GB for {args.accounts:,}"
    )

    print("\n3. hot partition: a viral post of the top account")
    hot = hot_partition(top, args.like_share, args.decay_minutes)
    print(
        f"  {top:,} followers x {args.like_share:.0%} like it, decaying over "
        f"{args.decay_minutes:.0f} min: peak {hot['peak_likes_per_s']:.0f} likes/s ="
        f" {hot['peak_wcu']:.0f} WCU/s on one partition (limit {PARTITION_WCU});"
        f" the like transaction caps a post at {hot['max_likes_per_s']:.0f} likes/s,"
        f" reached by an audience of {hot['audience_at_limit']:,.0f}"
    )
    for audience in (1_000_000, 10_000_000, 100_000_000):
        h = hot_partition(audience, args.like_share, args.decay_minutes)
        over = h["peak_wcu"] / PARTITION_WCU
        print(
            f"  audience {audience:>11,}: peak {h['peak_likes_per_s']:>7,.0f} likes/s,"
            f" {h['peak_wcu']:>8,.0f} WCU/s = {over:5.1f}x the partition"
        )

    print("\n4. cost per million monthly active users (on-demand, us-east-1 list prices)")
    chosen["big_accounts_read"] = min(chosen["big_accounts"], BIG_ACCOUNTS_PAGE)
    cost = monthly_cost(chosen, store, args.accounts, 1_000_000, args.feed_reads)
    print(
        f"  {cost['api_calls'] / 1e6:,.0f} M API calls, {cost['dynamodb_requests'] / 1e6:,.0f} M"
        f" DynamoDB requests, {cost['rru'] / 1e6:,.0f} M RRU, {cost['wru'] / 1e6:,.0f} M WRU"
        f" (fan-out {cost['fan_out_wru'] / 1e6:,.0f} M), {cost['timeline_gb']:.0f} GB timelines"
    )
    total = cost["usd_dynamodb"] + cost["usd_storage"] + cost["usd_lambda"] + cost["usd_apigw"]
    print(
        f"  USD/month: DynamoDB requests {cost['usd_dynamodb']:,.0f}, timeline storage"
        f" {cost['usd_storage']:,.0f}, Lambda {cost['usd_lambda']:,.0f}, API Gateway"
        f" {cost['usd_apigw']:,.0f}: {total:,.0f} in all ({total / 1e6 * 1000:.2f} per 1,000 MAU)"
    )
    print(f"\n(simulated in {time.monotonic() - started:.1f} s, pid {os.getpid()})")


if __name__ == "__main__":
    main()
