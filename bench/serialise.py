"""Serialising a page of posts: the app's path (pydantic's ``model_dump_json``, once) against
the previous one (``model_dump(mode="json")`` to a dict, then ``json.dumps`` as chalice does),
on the same 50-post page of photo posts, alternated in one process. Prints medians and the
ratio, then the page's size as sent and gzipped (what API Gateway's compression, from
``minimum_compression_size`` in .chalice/config.json, sends a client that accepts gzip).

    .venv/bin/python bench/serialise.py [--rounds 400]
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def page():
    from chalicelib.db import Page
    from chalicelib.models import PostMediaOut, PostOut, Renditions, UserSummary

    url = "https://media.example.com/media/u/" + "m" * 26 + "/{}.jpg?X-Amz-Signature=" + "f" * 64
    media = PostMediaOut(
        media_id="m" * 26,
        width=1080,
        height=1350,
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        renditions=Renditions(**{n: url.format(n) for n in ("thumb", "small", "large")}),
        description="a photo",
    )
    author = UserSummary(user_id="u" * 36, username="ana", name="Ana Lopez", avatar=None)
    posts = [
        PostOut(
            post_id=f"{i:026d}",
            author=author,
            caption="Morning light over the river #sunrise #lisbon ✨",
            hashtags=["sunrise", "lisbon"],
            media=[media] * 3,
            visibility="public",
            like_count=i,
            comment_count=2,
            liked_by_me=bool(i % 2),
            created_at="2026-12-03T07:00:00.000Z",
            edited_at=None,
        )
        for i in range(50)
    ]
    return Page(posts, "c" * 200)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=400)
    rounds = parser.parse_args().rounds
    data = page()
    before = lambda: json.dumps(data.as_json(), separators=(",", ":"))  # noqa: E731
    after = data.json_text
    assert json.loads(before()) == json.loads(after())  # the same answer
    times: dict[str, list[float]] = {"dict + json.dumps": [], "model_dump_json": []}
    for _ in range(rounds):
        for name, run in (("dict + json.dumps", before), ("model_dump_json", after)):
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(t) * 1000 for name, t in times.items()}
    for name, ms in medians.items():
        print(f"{name:>18}: {ms:.3f} ms per 50-post page (median of {rounds})")
    print(f"ratio: {medians['dict + json.dumps'] / medians['model_dump_json']:.2f}x faster")
    body = after().encode()
    packed = gzip.compress(body)
    print(
        f"page: {len(body):,} bytes, {len(packed):,} gzipped "
        f"({len(body) / len(packed):.1f}x smaller on the wire)"
    )


if __name__ == "__main__":
    main()
