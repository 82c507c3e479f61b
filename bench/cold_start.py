"""Cold start: fresh interpreters importing the app, and serving a first request, against baselines.

From the source tree (default): the median of N fresh-process imports of the app, and in the same
run of `import chalice` alone and `import boto3`, with the prod stage's environment; also what
the import leaves loaded (no boto3, no botocore client, no Pillow, no pydantic).

From a deployment zip (`--package build/package/deployment.zip`, `make package` builds it), as
Lambda runs it: unpacked, `python -S` (only the task root and the standard library), nothing
written. In one run, side by side:

- `import app` and `import chalice` as chalice ships them (its zip has no .pyc) and with the
  checked-hash .pyc infra/bytecode.py adds: the ratio app / chalice (goal <= 2.5x);
- import + first request: a fresh process imports the app and answers `GET /me` (a GetItem
  on the embedded moto, through the API Gateway event Lambda would pass), against a minimal
  Chalice app (from the same zip's chalice) answering one GetItem: the ratio (goal <= 1.15x).
  boto3 comes from this virtualenv for both (Lambda's runtime provides it).

The processes compared take turns run by run (a, b, a, b, ...): on a shared machine whose speed
drifts, one side measured after the other can be 30% off; taking turns keeps the ratio fair.

    .venv/bin/python bench/cold_start.py [--runs 15] [--package build/package/deployment.zip]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from infra.stage_settings import stage_environment  # noqa: E402

ENV = stage_environment("prod")  # what the deployed function sees
PROBE = """
import sys, time, json
t = time.perf_counter()
{statement}
elapsed = time.perf_counter() - t
print(json.dumps({{"ms": elapsed * 1000,
                  "boto3": "boto3" in sys.modules, "botocore": "botocore" in sys.modules,
                  "PIL": any(m == "PIL" or m.startswith("PIL.") for m in sys.modules),
                  "jwt": "jwt" in sys.modules, "pydantic": "pydantic" in sys.modules}}))
"""
# What Lambda's bootstrap does for the first request: import the handler module, call it.
FIRST_REQUEST = """
import json, sys, time
t = time.perf_counter()
import app
answer = app.app(json.loads(sys.argv[1]), None)
elapsed = time.perf_counter() - t
assert answer["statusCode"] == 200, answer  # (the account exists: _ACCOUNT)
print(json.dumps({"ms": elapsed * 1000, "status": answer["statusCode"]}))
"""
MINIMAL_APP = """
from chalice import Chalice

app = Chalice(app_name="minimal")
_client = None


@app.route("/me")
def me():
    global _client
    if _client is None:
        import os

        import boto3

        _client = boto3.client("dynamodb")
    key = {"PK": {"S": "USER#cold-start"}, "SK": {"S": "PROFILE"}}
    item = _client.get_item(TableName=os.environ["TABLE_NAME"], Key=key).get("Item")
    assert item is not None  # the same account the app reads
    return {"found": True}
"""
EVENT = {
    "resource": "/me",
    "path": "/me",
    "httpMethod": "GET",
    "headers": {"Accept": "application/json", "Host": "api.example"},
    "multiValueHeaders": {},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": None,
    "stageVariables": None,
    "body": None,
    "isBase64Encoded": False,
    "requestContext": {
        "resourcePath": "/me",
        "httpMethod": "GET",
        "path": "/api/me",
        "stage": "api",
        "requestId": "cold-start",
        "identity": {"sourceIp": "127.0.0.1"},
        "authorizer": {
            "claims": {
                "sub": "cold-start",
                "exp": "4102444800",
                "token_use": "id",
                "email": "cold@example.com",
                "preferred_username": "cold",
            }
        },
    },
}


_ACCOUNT = """
from chalicelib import users
claims = CLAIMS
reservation = users.reserve_handle(claims["preferred_username"])
users.create_profile(
    claims["sub"], claims["preferred_username"], claims["email"], "Cold", reservation
)
""".replace("CLAIMS", repr(EVENT["requestContext"]["authorizer"]["claims"]))


def _side_by_side(cases: dict[str, tuple[list[str], Path, dict[str, str]]], runs: int) -> dict:
    """Each case's median over ``runs`` fresh processes, the cases taking turns run by run
    (a, b, a, b, ...), so a machine getting busier or quieter weighs on all of them alike."""
    for command, cwd, env in cases.values():  # a warm-up each: the page cache, not Python's
        warm = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        if warm.returncode:
            raise SystemExit(f"{command[-2][:60]!r}... in {cwd} failed:\n{warm.stderr[-3000:]}")
    times: dict[str, list[float]] = {name: [] for name in cases}
    last: dict[str, dict] = {}
    for _ in range(runs):
        for name, (command, cwd, env) in cases.items():
            out = subprocess.run(
                command, cwd=cwd, env=env, check=True, capture_output=True, text=True
            )
            last[name] = json.loads(out.stdout)
            times[name].append(last[name]["ms"])
    return {
        name: {
            "median_ms": statistics.median(times[name]),
            **{k: v for k, v in last[name].items() if k != "ms"},
        }
        for name in cases
    }


def _probe(statement: str, package: Path | None = None) -> tuple[list[str], Path, dict[str, str]]:
    """The fresh-process command timing ``statement``; from an unpacked deployment ``package``
    if given: only its files and the standard library importable (`-S`), nothing written, as
    on Lambda."""
    env = {**os.environ, **ENV}
    command = [sys.executable, "-c", PROBE.format(statement=statement)]
    cwd = ROOT
    if package is not None:
        command.insert(1, "-S")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        cwd = package
    return command, cwd, env


def _unpack(package: Path, into: Path, bytecode: bool) -> Path:
    with zipfile.ZipFile(package) as archive:
        members = [m for m in archive.namelist() if bytecode or "__pycache__/" not in m]
        archive.extractall(into, members=members)
    return into


def source_tree(runs: int) -> None:
    cases = {
        "import chalice (baseline)": "import chalice",
        "import app": "import app",
        "import boto3 (not done at start)": "import boto3",
    }
    print(
        f"cold import, median of {runs} fresh interpreters (source tree), Python {sys.version[:6]}"
    )
    print(f"{'':34} {'median':>9}  loaded after import")
    results = _side_by_side({name: _probe(statement) for name, statement in cases.items()}, runs)
    for name, result in results.items():
        heavy = ("boto3", "botocore", "PIL", "jwt", "pydantic")
        loaded = ", ".join(k for k in heavy if result[k]) or "-"
        print(f"{name:34} {result['median_ms']:7.1f}ms  {loaded}")
    app_ms = results["import app"]["median_ms"]
    base_ms = results["import chalice (baseline)"]["median_ms"]
    print(f"app / chalice alone: {app_ms / base_ms:.2f}x; app adds {app_ms - base_ms:.1f} ms")


def from_package(package: Path, runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="echomate-cold-"))
    shipped = _unpack(package, work / "no-pyc", bytecode=False)
    compiled = _unpack(package, work / "pyc", bytecode=True)
    has_pyc = any(compiled.rglob("*.pyc"))
    print(f"cold start from {package}, median of {runs} fresh `python -S` ({sys.version[:6]})")
    if not has_pyc:
        print("  (this zip has no .pyc: build it with `make package`)")
    rows = {}
    for label, root in (
        ("no .pyc (chalice as released)", shipped),
        ("checked-hash .pyc", compiled),
    ):
        both = _side_by_side(
            {"app": _probe("import app", root), "chalice": _probe("import chalice", root)}, runs
        )
        app, chalice = both["app"]["median_ms"], both["chalice"]["median_ms"]
        rows[label] = (app, chalice)
        print(
            f"  {label:30} import app {app:6.1f} ms  import chalice {chalice:5.1f} ms"
            f"  app/chalice {app / chalice:4.2f}x"
        )
    (a0, _), (a1, c1) = rows.values()
    print(f"  .pyc speed-up of import app: {a0 / a1:.2f}x;  app/chalice with .pyc: {a1 / c1:.2f}x")
    _first_request(package, compiled, work, runs)
    shutil.rmtree(work, ignore_errors=True)


def _first_request(package: Path, compiled: Path, work: Path, runs: int) -> None:
    """Import + first DynamoDB-backed request, the app against a minimal Chalice app."""
    from devstack.motoserver import MotoServer
    from devstack.provision import local_environment, provision
    from tests.e2e.stack import free_port

    minimal = work / "minimal"
    shutil.copytree(compiled / "chalice", minimal / "chalice")  # the same chalice, same .pyc
    (minimal / "app.py").write_text(MINIMAL_APP, encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "checked-hash", "."],
        cwd=minimal,
        check=True,
    )
    moto = MotoServer(free_port()).start()
    try:
        settings = provision(moto.url)
        env = {
            **os.environ,
            **ENV,
            **local_environment(moto.url),
            "TABLE_NAME": settings["TABLE_NAME"],
            "MEDIA_BUCKET": settings["MEDIA_BUCKET"],
            "CURSOR_SECRET": "cold-start-bench-cursor-secret",  # no Secrets Manager call
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": sysconfig.get_paths()["purelib"],  # boto3, as Lambda's runtime has it
        }
        env.pop("CURSOR_SECRET_ARN", None)
        # the caller's account: a private route answers 401 for a token of no account
        subprocess.run([sys.executable, "-c", _ACCOUNT], cwd=compiled, env=env, check=True)
        event = json.dumps(EVENT)
        command = [sys.executable, "-S", "-c", FIRST_REQUEST, event]
        results = _side_by_side(
            {
                "echomate GET /me": (command, compiled, env),
                "minimal Chalice, one GetItem": (command, minimal, env),
            },
            runs,
        )
        (app_label, app), (base_label, base) = results.items()
        print(f"  import + first request (status {app['status']}), median of {runs}:")
        print(f"    {app_label:30} {app['median_ms']:7.1f} ms")
        print(f"    {base_label:30} {base['median_ms']:7.1f} ms")
        print(f"    ratio: {app['median_ms'] / base['median_ms']:.2f}x")
    finally:
        moto.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--package",
        type=Path,
        help="a chalice deployment.zip (make package): from it, as Lambda runs it",
    )
    args = parser.parse_args()
    if args.package:
        from_package(args.package, args.runs)
    else:
        source_tree(args.runs)


if __name__ == "__main__":
    main()
