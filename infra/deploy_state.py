"""Chalice's record of a deployed stage (.chalice/deployed/<stage>.json), kept in an S3 bucket.

    python -m infra.deploy_state pull --stage prod --bucket <state bucket>
    python -m infra.deploy_state push --stage prod --bucket <state bucket>

`chalice deploy` finds what it deployed before (the API id, function ARNs, mappings, rules) in
that file; without it, it would create a second API and fail on every function name. A CI
runner starts empty, so `make deploy STATE_BUCKET=...` pulls the file before the deploy and pushes
it right after, even when the deploy failed half-way (the file then lists what was created).
The bucket (infra/deploy-role.yaml) is versioned: each deploy's state can be looked up again.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from infra.stage_settings import STAGES

ROOT = Path(__file__).resolve().parent.parent


def state_key(stage: str) -> str:
    """Where a stage's record lives in the state bucket."""
    return f"chalice/deployed/{stage}.json"


def pull(s3: Any, bucket: str, stage: str, project: Path = ROOT) -> bool:
    """Fetch the stage's record into the project; False when the stage was never deployed."""
    target = project / ".chalice" / "deployed" / f"{stage}.json"
    try:
        body = s3.get_object(Bucket=bucket, Key=state_key(stage))["Body"].read()
    except s3.exceptions.NoSuchKey:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    return True


def push(s3: Any, bucket: str, stage: str, project: Path = ROOT) -> bool:
    """Store the stage's record; False when there is none (the deploy created nothing)."""
    source = project / ".chalice" / "deployed" / f"{stage}.json"
    if not source.exists():
        return False
    s3.put_object(
        Bucket=bucket,
        Key=state_key(stage),
        Body=source.read_bytes(),
        ContentType="application/json",
        ServerSideEncryption="AES256",
    )
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["pull", "push"])
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--bucket", required=True)
    args = parser.parse_args(argv)
    import boto3

    s3 = boto3.client("s3")
    where = f"s3://{args.bucket}/{state_key(args.stage)}"
    if args.action == "pull":
        found = pull(s3, args.bucket, args.stage)
        print(f"{args.stage}: deployed state {'pulled from' if found else 'not yet in'} {where}")
    else:
        stored = push(s3, args.bucket, args.stage)
        done = "pushed to" if stored else "absent, not pushed to"
        print(f"{args.stage}: deployed state {done} {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
