"""A photo's way on the embedded stack: presigned POST, S3 event, renditions, download."""

import io
import time
from urllib.request import urlopen

import requests
from PIL import Image

from tests.e2e.stack import call
from tests.factories import jpeg, sign_up_and_log_in


def test_upload_is_ready_within_seconds_with_downloadable_renditions(stack):
    api = stack.api
    token = sign_up_and_log_in(stack, "photo@example.com", "photographer")["idToken"]
    data = jpeg(4000, 3000, orientation=6, gps=True)
    status, answer = call(
        f"{api}/media",
        "POST",
        token=token,
        body={"contentType": "image/jpeg", "contentLength": len(data), "purpose": "post"},
    )
    assert status == 201
    started = time.monotonic()
    form = answer["upload"]
    sent = requests.post(
        form["url"],
        data=form["fields"],
        files={"file": ("photo.jpg", data, "image/jpeg")},
        timeout=30,
    )
    assert sent.status_code in (200, 204), sent.text

    view = None
    while time.monotonic() - started < 5:
        _, view = call(f"{api}/media/{answer['mediaId']}", token=token)
        if view["status"] != "pending":
            break
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    assert view["status"] == "ready", view
    assert elapsed < 5
    assert (view["width"], view["height"]) == (3000, 4000)
    sizes = {}
    for name, url in view["renditions"].items():
        assert url.startswith("http://127.0.0.1:")
        with urlopen(url, timeout=10) as response:
            image = Image.open(io.BytesIO(response.read()))
            sizes[name] = image.size
            assert not image.getexif()
    assert sizes == {"thumb": (320, 320), "small": (480, 640), "large": (810, 1080)}


def test_bucket_answers_browser_preflight_for_uploads(stack):
    bucket = stack.settings()["MEDIA_BUCKET"]
    response = requests.options(
        f"{stack.moto}/{bucket}",
        timeout=10,
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 200
    assert "POST" in response.headers.get("Access-Control-Allow-Methods", "")
