"""How much work one run of a job may do, and how a job works through pages."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from chalicelib import db

T = TypeVar("T")


class OutOfTime(Exception):
    """The invocation's budget is spent; the job continues on its next run."""


class Budget:
    """How much work a run may still do (time, and for tests a number of operations)."""

    def __init__(self, seconds: float, max_operations: int | None = None) -> None:
        self._deadline = time.monotonic() + seconds
        self._left = max_operations

    def spend(self) -> None:
        if time.monotonic() > self._deadline or self._left == 0:
            raise OutOfTime
        if self._left is not None:
            self._left -= 1


def drain(fetch: Callable[[], db.Page[T]], act: Callable[[T], bool | None], budget: Budget) -> None:
    """Act on pages of items until none is left (or only items ``act`` keeps: it said False)."""
    while True:
        budget.spend()
        page = fetch()
        acted = False
        for item in page.items:
            budget.spend()
            acted = act(item) is not False or acted
        if not acted:
            return
