"""Lazily created, cached boto3 clients (no resources: a resource costs its model and a client
of its own on a cold start).

Nothing is created at import time (cold start): boto3 itself is imported on first use. The
endpoint comes from the settings, so on the local stages every call goes to the moto server.
"""

from __future__ import annotations

import datetime
import logging
import re
import sys
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from typing import Any

from chalicelib.config import get_settings
from chalicelib.errors import Invalid

log = logging.getLogger(__name__)


@cache
def _session() -> Any:
    import boto3

    return boto3.session.Session(region_name=get_settings().region)


def _config(service: str) -> Any:
    from botocore.config import Config

    options: dict[str, Any] = {
        "retries": {"mode": "standard", "max_attempts": 3},
        "connect_timeout": 2,
        "read_timeout": 10,
    }
    if service == "s3":
        # Presigned URLs must be SigV4 (required with a custom endpoint, and in every region).
        options["signature_version"] = "s3v4"
    return Config(**options)


@cache
def client(service: str) -> Any:
    """The shared boto3 client for ``service``."""
    return _session().client(
        service, endpoint_url=get_settings().aws_endpoint_url, config=_config(service)
    )


@cache
def client_at(service: str, endpoint_url: str) -> Any:
    """A shared boto3 client for ``service`` at a given endpoint (API Gateway's management
    API lives at each WebSocket API's own URL)."""
    return _session().client(service, endpoint_url=endpoint_url, config=_config(service))


def reset() -> None:
    """Forget every cached client (tests switch between moto instances)."""
    for cached in (_session, client, client_at):
        cached.cache_clear()


_PARAMETER = re.compile(r"parameter ([A-Za-z0-9_.\[\]]+)")


def bad_parameters(exc: BaseException) -> Invalid | None:
    """The 400 for botocore's own parameter validation (``ParamValidationError``, raised before
    anything is sent: e.g. a Cognito ``Session`` under 20 characters), or None for any other
    error. It is the caller's input, not an outage: never a 503 or a 500, logged as a warning
    (a value that got past the models; the models should refuse it first)."""
    exceptions = sys.modules.get("botocore.exceptions")  # loaded with boto3; never import it here
    if exceptions is None or not isinstance(exc, exceptions.ParamValidationError):
        return None
    found = _PARAMETER.search(str(exc))
    parameter = found.group(1) if found else "unknown"
    log.warning("parameter refused by botocore before sending: %s", parameter)
    return Invalid(
        "invalid request: a value is outside the service's limits",
        [{"reason": "service_limits", "parameter": parameter}],
    )


# Presigned URLs that stay the same for a window ------------------------------------------------
_signing_time: ContextVar[datetime.datetime | None] = ContextVar("signing_time", default=None)


def presign_at(moment: float, sign: Callable[[], str]) -> str:
    """``sign()`` (a presigning call) as if made at epoch second ``moment``: the URL is the
    same for every call with the same ``moment``, parameters and credentials, so a browser can
    cache what it points at. botocore's SigV4 reads its clock through
    ``botocore.auth.get_current_datetime`` at signing time; within this call (and only in this
    thread or task: a context variable) that clock answers ``moment``."""
    _fixed_clock()
    token = _signing_time.set(datetime.datetime.fromtimestamp(moment, datetime.UTC))
    try:
        return sign()
    finally:
        _signing_time.reset(token)


@cache
def _fixed_clock() -> None:
    """Route botocore.auth's clock through ``_signing_time`` (once per process). Checked
    against the botocore in use: tests/unit/test_presign.py fails if botocore stops signing
    through ``get_current_datetime``."""
    import botocore.auth

    real = botocore.auth.get_current_datetime

    def current(remove_tzinfo: bool = True) -> datetime.datetime:
        fixed = _signing_time.get()
        if fixed is None:
            return real(remove_tzinfo)  # type: ignore[no-any-return]
        return fixed.replace(tzinfo=None) if remove_tzinfo else fixed

    botocore.auth.get_current_datetime = current
