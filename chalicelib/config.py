"""Every setting the app reads, in one place.

Settings come from the stage's environment variables (``.chalice/config.json``). On the embedded
stack, ids that only exist once the stack is provisioned (the Cognito pool, the stream ARN) come
from a generated outputs file named by ``STACK_OUTPUTS_FILE``; a variable in the environment wins
over the file. Nothing else in the code reads ``os.environ``.

``get_settings()`` validates everything once, on first use (not at import: ``chalice.test.Client``
applies a stage's variables only during a call, and cold start matters). ``startup_value()`` is the
unvalidated read that decorators need at import time (bucket of an S3 handler, authorizer ARN).
The model itself is ``chalicelib.settings.Settings``, and the abuse limits are in
``chalicelib.limits``: importing this module loads neither pydantic nor anything else heavy.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # the model (and pydantic) are imported by the first get_settings()
    from chalicelib.settings import Settings


class PasswordPolicy(NamedTuple):
    """The user pool's password policy (infra/template.yaml; a test keeps the two equal),
    checked before Cognito so a 400 can name the rule that was broken. (A named tuple: a
    pydantic model made at import builds its validator then, ~25 ms of cold start.)"""

    minimum_length: int = 10
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = False


PASSWORD_POLICY = PasswordPolicy()


class SettingsError(RuntimeError):
    """A setting is missing or invalid: the function must not start."""


def _environment() -> dict[str, str]:
    values: dict[str, str] = {}
    outputs_file = os.environ.get("STACK_OUTPUTS_FILE")
    if outputs_file:
        try:
            with open(outputs_file, encoding="utf-8") as handle:
                values.update({k: str(v) for k, v in json.load(handle).items()})
        except FileNotFoundError as exc:
            raise SettingsError(
                f"STACK_OUTPUTS_FILE={outputs_file} does not exist: start the embedded stack "
                "with `make dev` (it provisions the resources and writes this file)"
            ) from exc
    values.update(os.environ)
    return values


def startup_value(name: str, default: str = "") -> str:
    """A raw setting for import-time wiring (event sources, authorizer), not validated."""
    return _environment().get(name, default)


@cache
def get_settings() -> Settings:
    """The stage's settings, validated on first use; fails fast naming every bad setting."""
    from pydantic import ValidationError

    from chalicelib.settings import Settings

    env = _environment()
    if "AWS_DEFAULT_REGION" not in env and "AWS_REGION" in env:
        env["AWS_DEFAULT_REGION"] = env["AWS_REGION"]
    try:
        return Settings.model_validate(env)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"invalid configuration: {problems}") from None
