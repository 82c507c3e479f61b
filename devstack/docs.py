"""The API reference page: Swagger UI over the app's OpenAPI document, with no CDN.

The embedded stack serves it at ``GET /docs`` (devstack/local_api.py, next to the API, so "Try
it out" calls the running stack); ``make docs`` writes a static copy for publishing:

    python -m devstack.docs build/docs    # index.html, openapi.json and the Swagger UI assets

Swagger UI's files come from the ``swagger-ui-bundle-v2`` wheel (Swagger UI 5, which renders
OpenAPI 3.1): nothing is fetched at run time. None of this is in the Lambda package: the app
serves only ``/openapi.json``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: The Swagger UI files the page loads, and their content types.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Echomate API reference</title>
  <link rel="stylesheet" href="{assets}swagger-ui.css">
  <link rel="icon" type="image/png" href="{assets}favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets}swagger-ui-bundle.js"></script>
  <script>
    // validatorUrl: null keeps Swagger UI from sending the document to an online validator:
    // the page talks to nothing but where it was served from.
    window.ui = SwaggerUIBundle({{
      url: {spec_url},
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
    }});
  </script>
</body>
</html>
"""


def page(spec_url: str, assets: str) -> str:
    """The reference page, reading the document from ``spec_url`` and Swagger UI's files from
    ``assets`` (a URL prefix ending in ``/``)."""
    return _PAGE.format(spec_url=json.dumps(spec_url), assets=assets)


def asset(name: str) -> tuple[bytes, str] | None:
    """One of Swagger UI's files: (bytes, content type), or None for any other name."""
    if name not in ASSETS:
        return None
    from swagger_ui_bundle import swagger_ui_path

    return (Path(str(swagger_ui_path)) / name).read_bytes(), ASSETS[name]


def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document, as ``GET /openapi.json`` answers it on the local stage."""
    from infra.stage_settings import stage_environment

    os.environ.update(stage_environment("local"))  # the import-time wiring of the local stage
    sys.path.insert(0, str(ROOT))
    import app as application

    document: dict[str, Any] = application._openapi_document()
    return document


def write_static(out: Path) -> list[Path]:
    """Write index.html, openapi.json and the assets into ``out``; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "index.html", out / "openapi.json"]
    written[0].write_text(page("openapi.json", "assets/"), encoding="utf-8")
    written[1].write_text(json.dumps(openapi_document(), indent=2) + "\n", encoding="utf-8")
    (out / "assets").mkdir(exist_ok=True)
    for name in ASSETS:
        data, _ = asset(name) or (b"", "")
        target = out / "assets" / name
        target.write_bytes(data)
        written.append(target)
    return written


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "build/docs")
    for path in write_static(out):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    print(
        f"open {out / 'index.html'} through any static web server (the page fetches openapi.json)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
