"""Cold start: how long `import app` takes in a fresh interpreter, against baselines.

Prints the median of N fresh-process imports for the app and, in the same run, for
`import chalice` alone and for `import boto3` (what importing it eagerly would add), with the
prod stage's environment. Also checks what the import leaves loaded:
no boto3, no botocore client, no Pillow.

    .venv/bin/python bench/cold_start.py [--runs 15] [--package build/package/deployment.zip]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
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
                  "jwt": "jwt" in sys.modules}}))
"""


def measure(statement: str, runs: int, package: Path | None = None) -> dict:
    """Median import time of ``statement``; from an unpacked deployment ``package`` if given:
    only its files and the standard library importable (`-S`), no .pyc, as on Lambda."""
    times, last = [], {}
    env = {**os.environ, **ENV}
    command = [sys.executable, "-c", PROBE.format(statement=statement)]
    cwd = ROOT
    if package is not None:
        command.insert(1, "-S")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        cwd = package
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)  # warm caches
    for _ in range(runs):
        out = subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True, text=True)
        last = json.loads(out.stdout)
        times.append(last["ms"])
    return {"median_ms": statistics.median(times), **{k: v for k, v in last.items() if k != "ms"}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--package",
        type=Path,
        help="a chalice deployment.zip (make package): import app and chalice from it, no .pyc",
    )
    args = parser.parse_args()
    runs = args.runs
    cases = {
        "import chalice (baseline)": "import chalice",
        "import app": "import app",
        "import boto3 (not done at start)": "import boto3",
    }
    unpacked = None
    if args.package:
        unpacked = Path(tempfile.mkdtemp(prefix="echomate-package-"))
        with zipfile.ZipFile(args.package) as archive:
            archive.extractall(unpacked)
    where = f"from {args.package}, no .pyc" if args.package else "from the source tree"
    print(f"cold import, median of {runs} fresh interpreters ({where}), Python {sys.version[:6]}")
    print(f"{'':34} {'median':>9}  loaded after import")
    results = {}
    for name, statement in cases.items():
        in_package = unpacked if statement != "import boto3" else None  # Lambda provides boto3
        results[name] = result = measure(statement, runs, in_package)
        loaded = ", ".join(k for k in ("boto3", "botocore", "PIL", "jwt") if result[k]) or "-"
        print(f"{name:34} {result['median_ms']:7.1f}ms  {loaded}")
    app_ms = results["import app"]["median_ms"]
    base_ms = results["import chalice (baseline)"]["median_ms"]
    print(f"app / chalice alone: {app_ms / base_ms:.2f}x; app adds {app_ms - base_ms:.1f} ms")


if __name__ == "__main__":
    main()
