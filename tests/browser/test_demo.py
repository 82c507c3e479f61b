"""One journey through the demo client (demo/) in headless Chromium against the embedded stack:
sign up → confirm → sign in → refresh on 401 → edit profile → upload with progress → ready, with
the blurhash → post → follow → home feed with infinite scroll → like, comment → activity, live
over the WebSocket.
A screenshot lands in build/artifacts/demo.png."""

import re

import blurhash
import pytest
from playwright.sync_api import expect

from devstack import seed
from tests.browser.conftest import ARTIFACTS
from tests.e2e.stack import call
from tests.support import PASSWORD

pytestmark = pytest.mark.e2e

AUTHOR = ("sam.seed", "Sam Seed", (42, 157, 143))
WAIT = 30_000  # ms: a bound for what the stack does in the background, not a timing assertion


def refresh_until(page, button, condition, tries=60):
    """Click ``button`` until ``condition()`` holds (background work: fan-out, notifications)."""
    for _ in range(tries):
        page.click(button)
        page.wait_for_timeout(500)
        if condition():
            return
    raise AssertionError(f"still not there after {tries} refreshes")


def test_the_demo_journey(stack, demo_url, page, tmp_path):
    # Someone to follow: 6 posts (2 with photos), so the feed is longer than one page (5).
    (author,) = seed.seed(stack.api, people=[AUTHOR], posts=6, photos=2, interact=False)
    photo_file = tmp_path / "walk.jpg"
    photo_file.write_bytes(seed.photo((231, 111, 81), 7, size=(1200, 900)))

    page.goto(demo_url)
    # Sign up → confirm (any code on the local stack) → signed in
    page.fill("#signup-form [name=email]", "walker@example.com")
    page.fill("#signup-form [name=username]", "walker")
    page.fill("#signup-form [name=name]", "Wal Walker")
    page.fill("#signup-form [name=password]", PASSWORD)
    page.click("#signup-form button")
    page.fill("#confirm-form [name=code]", "123456")
    page.click("#confirm-form button")
    expect(page.locator("#me-handle")).to_have_text("@walker", timeout=WAIT)

    # Refresh on 401: a bad ID token is refreshed with the refresh token, and the call retried
    page.evaluate("localStorage.setItem('idToken', 'an.expired.token')")
    page.click("#activity-refresh")
    expect(page.locator("#log")).to_contain_text("ID token refreshed after a 401", timeout=WAIT)
    assert page.evaluate("localStorage.getItem('idToken')") != "an.expired.token"

    # Edit profile (merge patch with If-Match)
    page.fill("#profile-form [name=name]", "Wal K. Walker")
    page.fill("#profile-form [name=bio]", "Walks and photos")
    page.click("#profile-form button")
    expect(page.locator("#log")).to_contain_text("profile saved (version 2)", timeout=WAIT)

    # Upload straight to S3 with a progress bar, wait for `ready`, blurhash under the image
    page.set_input_files("#photo", str(photo_file))
    expect(page.locator("#upload-status")).to_have_text("ready (1200\u00d7900)", timeout=WAIT)
    assert page.eval_on_selector("#upload-progress", "bar => bar.value") == 1
    placeholder = page.locator("#preview canvas.blurhash")
    hash_ = placeholder.get_attribute("data-blurhash")
    # the demo's decoder agrees with the reference implementation (Python's blurhash package)
    decoded = page.evaluate(
        "async (hash) => Array.from((await import('./blurhash.js')).decode(hash, 8, 8))", hash_
    )
    reference = [v for row in blurhash.decode(hash_, 8, 8) for px in row for v in (*px, 255)]
    assert len(decoded) == len(reference)
    assert max(abs(a - b) for a, b in zip(decoded, reference, strict=True)) <= 1
    assert (
        page.eval_on_selector(  # painted: opaque pixels, not an empty canvas
            "#preview canvas.blurhash", "c => c.getContext('2d').getImageData(16, 16, 1, 1).data[3]"
        )
        == 255
    )
    expect(page.locator("#preview img.loaded")).to_have_count(1, timeout=WAIT)

    # Post it
    page.fill("#composer [name=caption]", "First walk #walking")
    page.click("#post-button")
    mine = page.locator("article.post").first
    expect(mine.locator(".caption")).to_have_text("First walk #walking", timeout=WAIT)
    my_post = mine.get_attribute("data-post-id")

    # Follow someone; their posts are backfilled into the feed in the background
    page.fill("#people-form [name=q]", "sam")
    page.press("#people-form [name=q]", "Enter")
    person = page.locator("#people li", has_text="@sam.seed")
    person.locator("button").click()
    expect(person.locator("button")).to_have_text("Following", timeout=WAIT)
    refresh_until(page, "#feed-refresh", lambda: page.locator("article.post").count() == 5)

    # Infinite scroll: the end of the list in view fetches the next page (7 posts in all)
    page.locator("#feed-end").scroll_into_view_if_needed()
    expect(page.locator("article.post")).to_have_count(7, timeout=WAIT)
    expect(page.locator("#feed-end")).to_have_text("You're all caught up", timeout=WAIT)

    # Like (optimistic, then the server's count) and comment on one of theirs
    theirs = page.locator("article.post", has_text="@sam.seed").first
    theirs.locator("button.like").click()
    expect(theirs.locator("button.like")).to_have_text("♥ 1", timeout=WAIT)
    expect(theirs.locator("button.like")).to_have_attribute("aria-pressed", "true")
    theirs.locator(".comment-form input").fill("Nice one!")
    theirs.locator(".comment-form button").click()
    expect(theirs.locator(".comments")).to_contain_text("@walker Nice one!", timeout=WAIT)
    expect(theirs.locator(".comment-count")).to_have_text("1 comment")

    # Activity, live: they like and comment on my post; the notifications are written by the
    # stream handler and pushed down the page's WebSocket, no refresh clicked
    expect(page.locator("#live-state")).to_have_text("live", timeout=WAIT)
    activity = page.locator("#activity li")
    expect(activity).to_have_count(0)
    assert call(f"{stack.api}/posts/{my_post}/like", "PUT", token=author.token)[0] == 200
    comment = {"text": "Welcome!"}
    assert call(f"{stack.api}/posts/{my_post}/comments", "POST", author.token, comment)[0] == 201
    expect(activity).to_have_count(2, timeout=WAIT)
    expect(activity.nth(0)).to_have_text(re.compile(r"@sam\.seed (liked|commented on) your post"))
    expect(page.locator("#log")).to_contain_text("live: @sam.seed", timeout=WAIT)
    # and the list the API keeps agrees
    refresh_until(page, "#activity-refresh", lambda: activity.count() == 2)

    page.locator("body > header").scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo.png"), full_page=True)


def test_the_docs_page_renders_in_a_browser(stack, page):
    """Swagger UI draws the reference from /openapi.json with local assets only."""
    page.goto(f"{stack.api}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Echomate API", timeout=WAIT)
    expect(page.locator(".opblock-summary-path", has_text="/auth/login").first).to_be_visible()
