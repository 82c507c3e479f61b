"""`make load`: Locust against an embedded stack this starts, beside the DynamoDB floor.

1. Starts `python -m devstack --no-reload` on free ports, recording every DynamoDB request its
   moto server handles (DEVSTACK_RECORD_DYNAMODB, devstack/motoserver.py).
2. Seeds it through the API: --users accounts (sign-up, confirm, login: real ID tokens), each
   following --follows others and with --posts posts.
3. Runs bench/locustfile.py headless for --duration seconds with --users users (the mix: 70%
   reads of feeds, posts and profiles, 30% likes, comments and posts, plus uploads and follows).
4. Replays the DynamoDB requests recorded during the run directly with boto3 against the same
   moto server, with as many threads as users (the floor: what the same DynamoDB work costs
   without the app), and prints the app's throughput against it.

Prints requests/s, p50/p95/p99 and errors per request kind, 5xx, p99 of the first and last third
of the run, the moto process's RSS before and after, and the ratio to the floor.

    .venv/bin/python bench/load.py [--users 30] [--duration 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import PASSWORD  # noqa: E402 (the test accounts' password meets the policy)


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def seed(api: str, users: int, follows: int, posts: int) -> tuple[list[dict], list[str]]:
    """Accounts with real tokens, follows among them and posts: through the API, as a client."""
    run = f"{int(time.time()) % 100000:05d}"

    def account(n: int) -> dict:
        session = requests.Session()
        username = f"load{run}u{n}"
        email = f"{username}@example.com"
        body = {"email": email, "password": PASSWORD, "username": username, "name": username}
        answer = session.post(f"{api}/auth/signup", json=body, timeout=30)
        assert answer.status_code == 201, answer.text
        answer = session.post(f"{api}/auth/confirm", json={"email": email, "code": "1"}, timeout=30)
        assert answer.status_code == 200, answer.text
        answer = session.post(
            f"{api}/auth/login", json={"email": email, "password": PASSWORD}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return {"username": username, "idToken": answer.json()["idToken"]}

    with ThreadPoolExecutor(8) as pool:
        accounts = list(pool.map(account, range(users)))

    def activity(n: int) -> list[str]:
        session = requests.Session()
        session.headers["Authorization"] = accounts[n]["idToken"]
        for k in range(1, follows + 1):
            other = accounts[(n + k) % users]["username"]
            answer = session.put(f"{api}/users/{other}/follow", timeout=30)
            assert answer.status_code == 200, answer.text
        ids = []
        for k in range(posts):
            body = {"caption": f"seeded post {k} of {n} #seed", "mediaIds": []}
            answer = session.post(f"{api}/posts", json=body, timeout=30)
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["postId"])
        return ids

    with ThreadPoolExecutor(8) as pool:
        post_ids = [p for ids in pool.map(activity, range(users)) for p in ids]
    return accounts, post_ids


def summarise(log: Path, duration: float) -> dict:
    rows = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
    if not rows:
        raise SystemExit("locust recorded no request")
    start, end = min(r["t"] for r in rows), max(r["t"] for r in rows)
    span = max(end - start, 1e-9)
    kinds: dict[str, list[dict]] = {}
    for row in rows:
        kinds.setdefault(row["kind"], []).append(row)

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    print(
        f"\n{'request kind':32} {'n':>6} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'err':>5}"
    )
    api_rows = [r for r in rows if not r["kind"].startswith("S3 ")]
    for kind in sorted(kinds, key=lambda k: -len(kinds[k])):
        group = kinds[kind]
        ms = [r["ms"] for r in group]
        errors = sum(1 for r in group if "error" in r or not 200 <= r["status"] < 300)
        print(
            f"{kind:32} {len(group):>6} {len(group) / span:>7.1f} {pct(ms, 0.5):>6.0f}ms"
            f" {pct(ms, 0.95):>6.0f}ms {pct(ms, 0.99):>6.0f}ms {errors:>5}"
        )
    ms = [r["ms"] for r in api_rows]
    errors = [r for r in api_rows if "error" in r or not 200 <= r["status"] < 300]
    five = [r for r in api_rows if r["status"] >= 500 or r["status"] == 0]
    print(
        f"{'all API requests':32} {len(api_rows):>6} {len(api_rows) / span:>7.1f}"
        f" {pct(ms, 0.5):>6.0f}ms {pct(ms, 0.95):>6.0f}ms {pct(ms, 0.99):>6.0f}ms {len(errors):>5}"
    )
    for r in errors[:5]:
        print(f"  error: {r['kind']} {r['status']} {r.get('error', '')[:160]}")
    third = span / 3
    first = [r["ms"] for r in api_rows if r["t"] < start + third]
    last = [r["ms"] for r in api_rows if r["t"] >= end - third]
    print(
        f"p99 first third {pct(first, 0.99):.0f} ms, last third {pct(last, 0.99):.0f} ms"
        f" (last/first {pct(last, 0.99) / pct(first, 0.99):.2f}); p50 {pct(first, 0.5):.0f} →"
        f" {pct(last, 0.5):.0f} ms; errors {len(errors)}, 5xx or no answer {len(five)}"
    )
    return {"api_requests": len(api_rows), "span": span, "rps": len(api_rows) / span}


def replay(moto_url: str, records: list[dict], threads: int) -> tuple[float, int]:
    """The recorded DynamoDB requests, sent again with boto3 by ``threads`` threads in order;
    (seconds, failures). Idempotency tokens are dropped: a replayed write is evaluated again
    (most conditions now fail, which costs moto the same evaluation)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    session = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (moto's dummy credentials)
        region_name="us-east-1",
    )
    config = Config(retries={"max_attempts": 1}, max_pool_connections=threads)
    client = session.client("dynamodb", endpoint_url=moto_url, config=config)
    by_api = {api: method for method, api in client.meta.method_to_api_mapping.items()}
    work = iter(records)
    lock = threading.Lock()
    failures = [0]

    def worker() -> None:
        while True:
            with lock:
                record = next(work, None)
            if record is None:
                return
            params = json.loads(record["body"] or "{}")
            params.pop("ClientRequestToken", None)
            try:
                getattr(client, by_api[record["op"]])(**params)
            except (ClientError, KeyError):
                with lock:
                    failures[0] += 1

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.monotonic() - started, failures[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--duration", type=int, default=300, help="seconds of load")
    parser.add_argument("--follows", type=int, default=8)
    parser.add_argument("--posts", type=int, default=3)
    args = parser.parse_args()

    from tests.e2e.stack import Stack, free_port

    tmp = Path(tempfile.mkdtemp(prefix="echomate-load-"))
    record = tmp / "dynamodb.jsonl"
    os.environ["DEVSTACK_RECORD_DYNAMODB"] = str(record)
    stack = Stack(tmp, free_port(), free_port())
    try:
        print(
            f"embedded stack ready in {stack.wait_ready():.1f} s ({stack.api}, moto {stack.moto})"
        )
        started = time.monotonic()
        accounts, post_ids = seed(stack.api, args.users, args.follows, args.posts)
        print(
            f"seeded {len(accounts)} accounts, {len(accounts) * args.follows} follows,"
            f" {len(post_ids)} posts in {time.monotonic() - started:.1f} s"
        )
        (tmp / "users.json").write_text(json.dumps(accounts), encoding="utf-8")
        log = tmp / "requests.jsonl"
        env = {
            **os.environ,
            "LOAD_USERS": str(tmp / "users.json"),
            "LOAD_LOG": str(log),
            "LOAD_POSTS": json.dumps(post_ids),
        }
        first_record = _lines(record)
        rss_before = _rss_mb(stack.process.pid)
        print(
            f"locust: {args.users} users, no think time, {args.duration} s"
            f" (moto + pump process RSS {rss_before:.0f} MB)"
        )
        subprocess.run(
            [
                str(Path(sys.executable).parent / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.users),
                "--run-time",
                f"{args.duration}s",
                "--host",
                stack.api,
                "--only-summary",
                "--loglevel",
                "ERROR",
                "--stop-timeout",
                "10",
            ],
            env=env,
            cwd=tmp,  # chalice local is --no-reload, but keep locust's files out of the project
            check=False,
            stdout=subprocess.DEVNULL,
        )
        last_record = _lines(record)
        rss_after = _rss_mb(stack.process.pid)
        result = summarise(log, args.duration)
        print(f"moto + pump process RSS {rss_before:.0f} → {rss_after:.0f} MB")

        lines = record.read_text(encoding="utf-8").splitlines()[first_record:last_record]
        records = [json.loads(line) for line in lines]
        seconds, failures = replay(stack.moto, records, args.users)
        floor_rps = result["api_requests"] / seconds
        print(
            f"\nfloor: the run's {len(records):,} DynamoDB requests"
            f" ({len(records) / result['api_requests']:.1f} per API request, the pump's included)"
            f" replayed with boto3, {args.users} threads: {seconds:.1f} s"
            f" ({failures} refused on replay: conditions already met)"
        )
        print(
            f"throughput: app {result['rps']:.1f} req/s, floor {floor_rps:.1f} req/s:"
            f" {result['rps'] / floor_rps:.2f}x the floor"
        )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
