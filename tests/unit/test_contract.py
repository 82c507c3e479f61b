"""Every route of the REST contract (../shared/API.md) is built and documented."""

import re
from pathlib import Path

import pytest

import app as application
from chalicelib.openapi import build_document

CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "API.md"


def contract_routes():
    rows = re.findall(
        r"^\| (GET|POST|PUT|PATCH|DELETE) \| (/[^ |]*)", CONTRACT.read_text(), flags=re.M
    )
    return {(method, path.split("?")[0]) for method, path in rows}


@pytest.mark.skipif(not CONTRACT.exists(), reason="the shared contract is not beside the repo")
def test_every_contract_route_is_built_and_documented():
    routes = contract_routes()
    assert len(routes) > 40
    built = {(m, p) for p, methods in application.app.routes.items() for m in methods}
    document = build_document(application.ROUTES, title="t", version="1")
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert routes - built == set()
    assert routes - documented == set()
