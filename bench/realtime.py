"""A push to many connections of one user, end to end on the embedded stack.

Starts `python -m devstack` on free ports, signs up two users, opens N WebSocket connections
for the first (asyncio clients in this process), has the second like the first's post, and
times how long until every connection received the ``activity`` push (the stream handler reads
the user's connection set in one GetItem and posts to each connection through the management
API stand-in, 16 at a time). Baseline, side by side in the same run: the same like pushed to one
connection. Prints both, and the cost per connection.

    .venv/bin/python bench/realtime.py [--connections 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def _push_time(ws_url: str, token: str, count: int, like) -> tuple[float, int]:
    """Seconds from the like until ``count`` connections all got the push; how many got it."""
    from websockets.asyncio.client import connect

    sockets = []
    for start in range(0, count, 50):  # 50 handshakes at a time: each runs the $connect handler
        batch = [
            connect(f"{ws_url}?token={token}", open_timeout=60)
            for _ in range(start, min(count, start + 50))
        ]
        sockets += await asyncio.gather(*batch)

    async def first_activity(socket) -> float:
        while True:
            message = json.loads(await socket.recv())
            if message.get("type") == "activity":
                return time.perf_counter()

    waiting = [asyncio.create_task(first_activity(s)) for s in sockets]
    started = time.perf_counter()
    await asyncio.to_thread(like)
    done, pending = await asyncio.wait(waiting, timeout=60)
    for task in pending:
        task.cancel()
    arrived = [t.result() for t in done]
    for socket in sockets:
        await socket.close()
    return (max(arrived) - started if arrived else float("nan")), len(arrived)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    args = parser.parse_args()

    from tests.e2e.stack import Stack, call, free_port
    from tests.factories import sign_up_and_log_in

    stack = Stack(Path(tempfile.mkdtemp()), free_port(), free_port())
    try:
        stack.wait_ready()
        ws_url = stack.settings()["WEBSOCKET_URL"]
        api = stack.api
        results = []
        for n, count in enumerate((1, args.connections)):
            owner = sign_up_and_log_in(stack, f"owner{n}@example.com", f"owner{n}")["idToken"]
            fan = sign_up_and_log_in(stack, f"fan{n}@example.com", f"fan{n}")["idToken"]
            status, post = call(f"{api}/posts", "POST", owner, {"caption": "bench"})
            assert status == 201, post

            def like(post_id=post["postId"], token=fan) -> None:
                assert call(f"{api}/posts/{post_id}/like", "PUT", token)[0] == 200

            seconds, got = asyncio.run(_push_time(ws_url, owner, count, like))
            results.append((count, seconds, got))
        print(f"{'connections':>12} {'received':>9} {'like → last push':>17}")
        for count, seconds, got in results:
            print(f"{count:>12} {got:>9} {seconds:>15.2f} s")
        (one, t1, _), (many, tn, _) = results
        print(
            f"ratio {many} vs {one} connection: {tn / t1:.1f}x the time "
            f"({(tn - t1) / (many - one) * 1000:.2f} ms per extra connection; DynamoDB requests "
            "for the push: 2 either way, tests/api/test_realtime.py)"
        )
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
