"""Time-sortable ids (ULID layout: 48-bit milliseconds + 80 random bits, Crockford base32).

Written here rather than imported: python-ulid costs ~60 ms of import at cold start for what
is ten lines. Ids made in the same millisecond sort randomly among themselves, which no list
here depends on.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(now: float | None = None) -> str:
    """A 26-character id that sorts by creation time."""
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis << 80) | secrets.randbits(80)
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def last_id_at(moment: float) -> str:
    """The greatest id of the millisecond ``moment`` falls in: a ``sk_before`` bound that keeps
    everything made up to that millisecond."""
    millis = int(moment * 1000)
    value = (millis << 80) | ((1 << 80) - 1)
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def id_time(value: str) -> float:
    """The creation time (epoch seconds) encoded in an id."""
    number = 0
    for char in value.upper():
        number = number * 32 + _ALPHABET.index(char)
    return (number >> 80) / 1000
