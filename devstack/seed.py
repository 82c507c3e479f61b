"""`make seed`: demo data in the running `make dev` stack, made through the public API.

Signs up a few demo users (confirmed), makes them follow each other, posts photos (generated
with Pillow, uploaded through the presigned POST exactly as a client does), likes and comments,
then prints the logins. Run again, it signs the same users in and adds more posts. The data
lives in moto's memory: it is gone when `make dev` stops.

    python -m devstack.seed [--api http://127.0.0.1:8000] [--users 4] [--posts 3]
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

PASSWORD = "Echomate-demo-1"  # meets the pool's policy; demo data only, on a local stack
PEOPLE = [  # (username, display name, a colour for their photos)
    ("ana.demo", "Ana Lima", (231, 111, 81)),
    ("ben.demo", "Ben Okafor", (42, 157, 143)),
    ("chloe.demo", "Chloé Martin", (233, 196, 106)),
    ("dev.demo", "Dev Patel", (69, 123, 157)),
]
CAPTIONS = [
    "Morning light over the harbour #sunrise #travel",
    "Best coffee in town, no contest #coffee",
    "Weekend hike, worth every step #hiking #outdoors",
    "New desk setup #workspace",
    "Golden hour again #sunset #photography",
    "Market day #food #travel",
]
COMMENTS = ["Love this!", "Where is this?", "Great shot 📸", "So good", "Wow"]


class SeedError(RuntimeError):
    """The API refused something seeding needs."""


@dataclass
class Account:
    """A demo user, signed in."""

    username: str
    name: str
    email: str
    colour: tuple[int, int, int]
    token: str = ""
    posts: list[str] = field(default_factory=list)


class Client:
    """Just enough of the API for seeding, over HTTP."""

    def __init__(self, api: str) -> None:
        self.api = api.rstrip("/")
        self.http = requests.Session()

    def call(
        self, method: str, path: str, token: str = "", body: Any = None, ok: tuple[int, ...] = ()
    ) -> tuple[int, Any]:
        headers = {"Authorization": token} if token else {}
        if method == "POST" and path.endswith(("/posts", "/comments")):
            headers["Idempotency-Key"] = str(uuid.uuid4())  # a retry of this call posts once
        answer = self.http.request(method, self.api + path, json=body, headers=headers, timeout=30)
        data = answer.json() if answer.content else None
        if answer.status_code >= 400 and answer.status_code not in ok:
            raise SeedError(f"{method} {path}: {answer.status_code} {data}")
        return answer.status_code, data


def photo(colour: tuple[int, int, int], seed: int, size: tuple[int, int] = (960, 720)) -> bytes:
    """A JPEG: a gradient in ``colour`` with a few circles, different for each ``seed``."""
    from PIL import Image, ImageDraw

    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    tint = Image.new("RGB", size, colour)
    image = Image.blend(image, tint, 0.6)
    draw = ImageDraw.Draw(image)
    for n in range(4):
        x = (seed * 197 + n * 263) % width
        y = (seed * 131 + n * 171) % height
        r = 40 + (seed * 37 + n * 53) % 120
        shade = tuple(min(255, c + 60) for c in colour)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=shade)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def sign_in(client: Client, username: str, name: str, colour: tuple[int, int, int]) -> Account:
    """Sign the demo user up (once) and in."""
    account = Account(username, name, f"{username}@example.com", colour)
    body = {"email": account.email, "password": PASSWORD, "username": username, "name": name}
    status, _ = client.call("POST", "/auth/signup", body=body, ok=(409,))
    if status == 201:  # any code confirms on the embedded stack
        client.call("POST", "/auth/confirm", body={"email": account.email, "code": "000000"})
    _, tokens = client.call(
        "POST", "/auth/login", body={"email": account.email, "password": PASSWORD}
    )
    if "idToken" not in tokens:
        raise SeedError(f"{account.email} has MFA on: seed signs in without a code")
    account.token = tokens["idToken"]
    return account


def upload_photo(client: Client, account: Account, data: bytes) -> str:
    """Upload through the presigned POST and wait until processed: the media id."""
    _, answer = client.call(
        "POST",
        "/media",
        account.token,
        {"contentType": "image/jpeg", "contentLength": len(data), "purpose": "post"},
    )
    form = answer["upload"]
    sent = client.http.post(
        form["url"],
        data=form["fields"],
        files={"file": ("photo.jpg", data, "image/jpeg")},
        timeout=30,
    )
    if sent.status_code not in (200, 204):
        raise SeedError(f"the upload was refused: {sent.status_code} {sent.text}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, media = client.call("GET", f"/media/{answer['mediaId']}", account.token)
        if media["status"] == "ready":
            return str(answer["mediaId"])
        if media["status"] == "rejected":
            raise SeedError(f"the photo was rejected: {media.get('rejectReason')}")
        time.sleep(0.1)
    raise SeedError("the photo was not processed within 60 s: is the event pump running?")


def post(client: Client, account: Account, caption: str, with_photo: bool, n: int) -> str:
    """A post by ``account`` (with a generated photo or text only): its id."""
    media = [upload_photo(client, account, photo(account.colour, n))] if with_photo else []
    _, created = client.call(
        "POST", "/posts", account.token, {"caption": caption, "mediaIds": media}
    )
    account.posts.append(created["postId"])
    return str(created["postId"])


def seed(
    api: str,
    people: list[tuple[str, str, tuple[int, int, int]]] | None = None,
    posts: int = 3,
    photos: int | None = None,
    interact: bool = True,
) -> list[Account]:
    """Fill the stack at ``api``: ``people`` (default PEOPLE) follow each other and post
    ``posts`` each (the first ``photos`` with a photo, default all), then like and comment on
    each other's posts when ``interact``. The accounts, signed in."""
    client = Client(api)
    accounts = [sign_in(client, *person) for person in (people or PEOPLE)]
    for follower, followee in itertools.permutations(accounts, 2):
        client.call("PUT", f"/users/{followee.username}/follow", follower.token)
    counter = itertools.count()
    for account in accounts:
        for n in range(posts):
            i = next(counter)
            with_photo = photos is None or n < photos
            post(client, account, CAPTIONS[i % len(CAPTIONS)], with_photo, i)
    if interact:
        for i, (actor, author) in enumerate(itertools.permutations(accounts, 2)):
            for post_id in author.posts[:2]:
                client.call("PUT", f"/posts/{post_id}/like", actor.token)
            if author.posts:
                text = COMMENTS[i % len(COMMENTS)]
                client.call(
                    "POST", f"/posts/{author.posts[0]}/comments", actor.token, {"text": text}
                )
    return accounts


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.seed", description=__doc__)
    default_api = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    parser.add_argument("--api", default=os.environ.get("API_URL", default_api))
    parser.add_argument("--users", type=int, default=len(PEOPLE), choices=range(1, 5))
    parser.add_argument("--posts", type=int, default=3, help="posts per user")
    args = parser.parse_args()
    try:
        accounts = seed(args.api, PEOPLE[: args.users], posts=args.posts)
    except requests.ConnectionError:
        print(f"no API answers at {args.api}: start it with `make dev` first", file=sys.stderr)
        return 1
    except SeedError as error:
        print(f"seeding failed: {error}", file=sys.stderr)
        return 1
    print(f"seeded {len(accounts)} users on {args.api}, {args.posts} posts each, following each")
    print(
        "other, with likes and comments. Sign in with any of (password for all: " + PASSWORD + ")"
    )
    for account in accounts:
        print(f"  {account.email:<26} @{account.username:<12} {account.name}")
    print("The data lives in memory: it is gone when `make dev` stops.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
