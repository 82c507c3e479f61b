"""`make grant USER=<username> GROUP=<admins|moderators>`: add a user of the running embedded
stack to a group. The user's next sign-in carries the group in `cognito:groups`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from chalicelib import keys
from devstack.provision import clients

ROOT = Path(__file__).resolve().parent.parent
GROUPS = ("admins", "moderators")


def grant(outputs: dict[str, str], username: str, group: str) -> str:
    """Add the user holding ``username`` to ``group``; returns their e-mail."""
    if group not in GROUPS:
        raise SystemExit(f"GROUP must be one of {', '.join(GROUPS)}, not {group!r}")
    make = clients(outputs["AWS_ENDPOINT_URL"])
    table = outputs["TABLE_NAME"]
    dynamodb = make("dynamodb")
    handle = dynamodb.get_item(
        TableName=table,
        Key={keys.PK: {"S": keys.handle_pk(username)}, keys.SK: {"S": keys.HANDLE_SK}},
    ).get("Item")
    if not handle or handle.get("status", {}).get("S") != "active":
        raise SystemExit(f"no user has the username {username!r}")
    user_id = handle["userId"]["S"]
    profile = dynamodb.get_item(
        TableName=table,
        Key={keys.PK: {"S": keys.user_pk(user_id)}, keys.SK: {"S": keys.PROFILE_SK}},
    )["Item"]
    email = profile["email"]["S"]
    make("cognito-idp").admin_add_user_to_group(
        UserPoolId=outputs["COGNITO_USER_POOL_ID"], Username=email, GroupName=group
    )
    return email


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.grant", description=__doc__)
    parser.add_argument("username")
    parser.add_argument("group", choices=GROUPS)
    parser.add_argument("--state-dir", default=os.environ.get("DEVSTACK_DIR", ".devstack"))
    args = parser.parse_args()
    outputs_file = (ROOT / args.state_dir / "outputs.json").resolve()
    if not outputs_file.exists():
        raise SystemExit(f"{outputs_file} is missing: start the embedded stack with `make dev`")
    outputs = json.loads(outputs_file.read_text(encoding="utf-8"))
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    from botocore.exceptions import EndpointConnectionError

    try:
        email = grant(outputs, args.username, args.group)
    except (OSError, EndpointConnectionError) as exc:
        raise SystemExit(
            f"the embedded stack does not answer ({exc}): is `make dev` running?"
        ) from None
    print(f"{args.username} ({email}) is now in {args.group}; it shows after a new sign-in")
    return 0


if __name__ == "__main__":
    sys.exit(main())
