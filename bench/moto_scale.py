"""The embedded DynamoDB as data grows: moto as released vs patched (devstack/motopatch.py).

Two measurements, each run for both variants side by side in this one invocation (each variant in
a fresh child process, so that RSS is its own):

1. Cost of a like-style conditional transaction (as chalicelib/interactions.like writes it: the
   like item unless it exists, and the post's counter + 1, plus a repeated like that is
   cancelled) on a table of 1,000 and of 50,000 items: medians, and 50k/1k.
2. RSS of the moto server over 5,000 writes (like transactions, each followed by a Query of the
   post's likes as the app's reads do): sampled every 500 writes. The unpatched run stops early
   at --rss-cap-mb or --time-cap seconds and says where it stopped.

    .venv/bin/python bench/moto_scale.py [--likes 20] [--writes 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("released", "patched")


# The child: one moto server in this process, one variant -----------------------------------
def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _server(variant: str):
    sys.path.insert(0, str(ROOT))
    from devstack import motoserver
    from devstack.provision import local_environment, provision
    from tests.e2e.stack import free_port

    if variant == "released":
        motoserver._patch_moto = lambda: None  # moto exactly as installed
    server = motoserver.MotoServer(free_port()).start()
    os.environ.update(local_environment(server.url))
    table = provision(server.url)["TABLE_NAME"]
    import boto3
    from botocore.config import Config

    # as released, a transaction on 50k items outlasts botocore's 60 s: wait, never retry
    patient = Config(read_timeout=1800, retries={"max_attempts": 1})
    client = boto3.client("dynamodb", endpoint_url=server.url, config=patient)
    return server, client, table


def _like(table: str, post: str, user: str) -> list[dict]:
    return [
        {
            "Put": {
                "TableName": table,
                "Item": {
                    "PK": {"S": f"POST#{post}"},
                    "SK": {"S": f"LIKE#{user}"},
                    "GSI1PK": {"S": f"LIKESBY#{user}"},
                    "GSI1SK": {"S": f"{time.time_ns()}"},
                    "userId": {"S": user},
                    "postId": {"S": post},
                    "createdAt": {"S": "2026-12-02T15:00:00Z"},
                },
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": {"PK": {"S": f"POST#{post}"}, "SK": {"S": "POST"}},
                "UpdateExpression": "ADD likeCount :one",
                "ConditionExpression": "attribute_exists(PK)",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
    ]


def _seed(client, table: str, start: int, stop: int) -> None:
    """Filler items (posts with a caption), 25 to a batch, as a table of other users' data."""
    for first in range(start, stop, 25):
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "PK": {"S": f"POST#seed{n}"},
                        "SK": {"S": "POST"},
                        "caption": {"S": f"filler post {n} " + "x" * 80},
                        "likeCount": {"N": "0"},
                    }
                }
            }
            for n in range(first, min(first + 25, stop))
        ]
        client.batch_write_item(RequestItems={table: requests})


def _time_likes(client, table: str, post: str, likes: int) -> tuple[float, float, float]:
    """Medians (ms) of ``likes`` new likes, of as many repeated (cancelled) ones, and of as many
    Queries of the post's likes (a page of 20)."""
    client.put_item(
        TableName=table,
        Item={"PK": {"S": f"POST#{post}"}, "SK": {"S": "POST"}, "likeCount": {"N": "0"}},
    )
    applied, cancelled = [], []
    for n in range(likes):
        started = time.perf_counter()
        client.transact_write_items(TransactItems=_like(table, post, f"u{n}"))
        applied.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        try:
            client.transact_write_items(TransactItems=_like(table, post, f"u{n}"))
        except client.exceptions.TransactionCanceledException:
            cancelled.append((time.perf_counter() - started) * 1000)
    count = client.get_item(TableName=table, Key={"PK": {"S": f"POST#{post}"}, "SK": {"S": "POST"}})
    assert int(count["Item"]["likeCount"]["N"]) == likes, "a cancelled like changed the counter"
    queried = []
    for _ in range(likes):
        started = time.perf_counter()
        client.query(
            TableName=table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :like)",
            ExpressionAttributeValues={":pk": {"S": f"POST#{post}"}, ":like": {"S": "LIKE#"}},
            Limit=20,
        )
        queried.append((time.perf_counter() - started) * 1000)
    return statistics.median(applied), statistics.median(cancelled), statistics.median(queried)


def child_cost(variant: str, likes: int, sizes: list[int]) -> dict:
    server, client, table = _server(variant)
    out: dict = {"variant": variant, "sizes": {}}
    seeded = 0
    for size in sizes:
        _seed(client, table, seeded, size)
        seeded = size
        # as released, one like at 50k items takes seconds: fewer samples there
        samples = likes if variant == "patched" or size < 10_000 else min(likes, 3)
        out["sizes"][size] = (*_time_likes(client, table, f"bench{size}", samples), samples)
    server.stop()
    return out


def child_rss(variant: str, writes: int, rss_cap_mb: float, time_cap: float) -> dict:
    server, client, table = _server(variant)
    started = time.monotonic()
    samples = [(0, _rss_mb())]
    posts = 50
    for n in range(posts):
        client.put_item(
            TableName=table,
            Item={"PK": {"S": f"POST#p{n}"}, "SK": {"S": "POST"}, "likeCount": {"N": "0"}},
        )
    stopped = None
    for n in range(1, writes + 1):
        post = f"p{n % posts}"
        client.transact_write_items(TransactItems=_like(table, post, f"u{n}"))
        client.query(
            TableName=table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :like)",
            ExpressionAttributeValues={":pk": {"S": f"POST#{post}"}, ":like": {"S": "LIKE#"}},
            Limit=20,
        )
        if n % 500 == 0:
            samples.append((n, _rss_mb()))
        if _rss_mb() > rss_cap_mb or time.monotonic() - started > time_cap:
            samples.append((n, _rss_mb()))
            stopped = n
            break
    server.stop()
    return {
        "variant": variant,
        "samples": samples,
        "stopped": stopped,
        "seconds": time.monotonic() - started,
    }


# The parent: both variants, side by side ---------------------------------------------------
def _run_child(args: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--likes", type=int, default=20, help="likes timed per table size")
    parser.add_argument("--sizes", default="1000,50000")
    parser.add_argument("--writes", type=int, default=5000)
    parser.add_argument("--rss-cap-mb", type=float, default=2500)
    parser.add_argument("--time-cap", type=float, default=240)
    parser.add_argument("--only", choices=("cost", "rss"))
    parser.add_argument("--variants", default=",".join(VARIANTS), help="released,patched")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    variants = [v for v in args.variants.split(",") if v in VARIANTS]

    if args.child:
        kind, variant = args.child
        if kind == "cost":
            result = child_cost(variant, args.likes, sizes)
        else:
            result = child_rss(variant, args.writes, args.rss_cap_mb, args.time_cap)
        print(json.dumps(result))
        return

    print(f"moto {_moto_version()}: as released vs patched (devstack/motopatch.py), this run")
    if args.only in (None, "cost"):
        common = ["--likes", str(args.likes), "--sizes", args.sizes]
        costs = {v: _run_child(["cost", v, *common]) for v in VARIANTS}
        print("\nmedian ms (of n): like applied / like cancelled / Query of 20 likes")
        print(
            f"{'items':>8} "
            + "".join(f"{v:>32}" for v in VARIANTS)
            + f"{'like released/patched':>24}"
        )
        for size in sizes:
            cells = [costs[v]["sizes"][str(size)] for v in VARIANTS]
            row = "".join(f"{a:9.1f} /{c:9.1f} /{q:7.1f} (n={n:2})" for a, c, q, n in cells)
            print(f"{size:>8} {row}{cells[0][0] / cells[1][0]:23.1f}x")
        for v in VARIANTS:
            by = costs[v]["sizes"]
            big, small = by[str(sizes[-1])], by[str(sizes[0])]
            print(
                f"  {v}: {sizes[-1]} items / {sizes[0]} items: like {big[0] / small[0]:.2f}x, "
                f"cancelled {big[1] / small[1]:.2f}x, Query {big[2] / small[2]:.2f}x"
            )
    if args.only in (None, "rss"):
        rss = {
            v: _run_child(
                [
                    "rss",
                    v,
                    "--writes",
                    str(args.writes),
                    "--rss-cap-mb",
                    str(args.rss_cap_mb),
                    "--time-cap",
                    str(args.time_cap),
                ]
            )
            for v in variants
        }
        print(f"\nmoto server RSS (MB) over {args.writes} writes (like transaction + Query each)")
        for v in variants:
            result = rss[v]
            points = "  ".join(f"{n}:{mb:.0f}" for n, mb in result["samples"])
            print(f"  {v:9} {points}")
            if result["stopped"]:
                print(
                    f"  {v:9} stopped at write {result['stopped']} (cap {args.rss_cap_mb:.0f} MB"
                    f" / {args.time_cap:.0f} s) after {result['seconds']:.0f} s"
                )
            else:
                rate = args.writes / result["seconds"]
                print(f"  {v:9} {result['seconds']:.0f} s for {args.writes} writes ({rate:.0f}/s)")


def _moto_version() -> str:
    import moto

    return moto.__version__


if __name__ == "__main__":
    main()
