"""Every implemented route of the REST contract (docs/api.md) is built and documented."""

import re
from pathlib import Path

import app as application
from chalicelib.openapi import build_document

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def contract_routes():
    """(method, path) of every table row outside the sections marked planned."""
    routes = set()
    for section in re.split(r"^## ", CONTRACT.read_text(), flags=re.M):
        heading = section.partition("\n")[0]
        if "planned" in heading.lower():
            continue
        rows = re.findall(r"^\| (GET|POST|PUT|PATCH|DELETE) \| (/[^ |]*)", section, flags=re.M)
        routes |= {(method, path.split("?")[0]) for method, path in rows}
    return routes


def test_every_contract_route_is_built_and_documented():
    routes = contract_routes()
    assert len(routes) > 40
    built = {(m, p) for p, methods in application.app.routes.items() for m in methods}
    document = build_document(application.ROUTES, title="t", version="1")
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert routes - built == set()
    assert routes - documented == set()
