"""The API reference page: `GET /docs` on the embedded stack, and `make docs`'s static copy."""

import json
import re

import requests

from devstack import docs


def external_urls(html: str) -> list[str]:
    """Absolute http(s) URLs the page would load (src/href): it must load none."""
    return re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)


def test_docs_page_renders_the_reference_from_local_assets(stack):
    page = requests.get(f"{stack.api}/docs", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert '"/openapi.json"' in page.text
    assert external_urls(page.text) == []
    for name, content_type in docs.ASSETS.items():
        asset = requests.get(f"{stack.api}/docs/assets/{name}", timeout=10)
        assert asset.status_code == 200
        assert asset.headers["Content-Type"] == content_type
        assert len(asset.content) > 500
    missing = requests.get(f"{stack.api}/docs/assets/../app.py", timeout=10)
    assert missing.status_code == 404


def test_make_docs_writes_a_static_copy(tmp_path):
    written = docs.write_static(tmp_path)
    names = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert names == sorted(["index.html", "openapi.json"] + [f"assets/{n}" for n in docs.ASSETS])
    html = (tmp_path / "index.html").read_text()
    assert '"openapi.json"' in html and 'src="assets/swagger-ui-bundle.js"' in html
    assert external_urls(html) == []
    document = json.loads((tmp_path / "openapi.json").read_text())
    assert document["openapi"].startswith("3.1") and "/auth/login" in document["paths"]
