"""JSON merge patch (RFC 7396) of profile documents: validation, merging, and the DynamoDB
update that applies only the changed paths. Pure functions, unit-tested."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from chalicelib import models
from chalicelib.errors import Invalid, TooLarge

MAX_DOCUMENT_BYTES = 16 * 1024  # profile + settings, as compact JSON
MAX_DEPTH = 6
MAX_KEYS = 300
MAX_KEY_LENGTH = 64
MAX_STRING = 2000
MAX_LIST = 100
MAX_LINKS = 10
MAX_BIO = 500
MAX_URL = 2048
# DynamoDB's number type (the service's limits, "Data types" in its developer guide): at most 38
# significant digits, magnitude 1E-130 to 9.99...E+125, or zero. boto3 also refuses anything it
# would round (its context traps Inexact and Rounded), so an integer counts every digit it has.
NUMBER_DIGITS = 38
NUMBER_MIN_EXPONENT = -130
NUMBER_MAX_EXPONENT = 125

#: the text rules of models.py that a document's keys and strings follow
_KEY_RULES: tuple[Callable[[str], str], ...] = (
    models.no_surrogates,
    models.single_line,
    models.no_bidi_controls,
)
_STRING_RULES: tuple[Callable[[str], str], ...] = (
    models.no_surrogates,
    models.multi_line,
    models.no_bidi_controls,
)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge key by key, ``null`` removes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass
class UpdatePlan:
    """The SET and REMOVE paths that turn ``current`` into ``merge_patch(current, patch)``."""

    sets: list[tuple[tuple[str, ...], Any]] = field(default_factory=list)
    removes: list[tuple[str, ...]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.sets or self.removes)


def plan_update(
    current: Mapping[str, Any],
    patch: Mapping[str, Any],
    prefix: tuple[str, ...],
    plan: UpdatePlan | None = None,
) -> UpdatePlan:
    """Paths to write: a nested key is set in place only where its parent map already exists
    (DynamoDB cannot set ``a.b`` without ``a``); otherwise the whole sub-object is set."""
    plan = plan if plan is not None else UpdatePlan()
    for key, value in patch.items():
        path = (*prefix, key)
        if value is None:
            if key in current:
                plan.removes.append(path)
        elif isinstance(value, Mapping) and isinstance(current.get(key), Mapping):
            plan_update(current[key], value, path, plan)
        else:
            new = merge_patch(None, value) if isinstance(value, Mapping) else value
            if key not in current or current[key] != new:
                plan.sets.append((path, new))
    return plan


def update_expression(
    plan: UpdatePlan,
) -> tuple[list[str], list[str], dict[str, str], dict[str, Any]]:
    """SET and REMOVE clauses of ``plan`` with every path segment as a placeholder name
    (keys are user text: never inline them into the expression)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}

    def name(segment: str) -> str:
        for placeholder, existing in names.items():
            if existing == segment:
                return placeholder
        placeholder = f"#p{len(names)}"
        names[placeholder] = segment
        return placeholder

    sets = []
    for path, value in plan.sets:
        placeholder = f":p{len(values)}"
        values[placeholder] = value
        sets.append(f"{'.'.join(name(s) for s in path)} = {placeholder}")
    removes = [".".join(name(s) for s in path) for path in plan.removes]
    return sets, removes, names, values


# Validation ------------------------------------------------------------------------------------
def check_patch(value: Any, field_name: str) -> None:
    """Shape limits of a patch document (nulls allowed: they remove)."""
    _check(value, field_name, depth=1, counter=[0], allow_null=True)


def check_document(profile: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
    """Limits and known fields of the merged profile and settings; the size is a 413."""
    _check(profile, "profile", depth=1, counter=[0], allow_null=False)
    _check(settings, "settings", depth=1, counter=[0], allow_null=False)
    _check_known_profile_fields(profile)
    _check_push_preferences(settings)
    size = len(
        json.dumps(
            {"profile": profile, "settings": settings}, separators=(",", ":"), ensure_ascii=False
        ).encode()
    )
    if size > MAX_DOCUMENT_BYTES:
        raise TooLarge(
            f"profile: profile and settings may take at most {MAX_DOCUMENT_BYTES // 1024} KB "
            f"({size} bytes given)",
            [{"field": "profile", "reason": "too_large", "limit": MAX_DOCUMENT_BYTES}],
        )


def _invalid(path: str, message: str, reason: str) -> Invalid:
    return Invalid(f"{path}: {message}", [{"field": path, "reason": reason}])


def _check(value: Any, path: str, *, depth: int, counter: list[int], allow_null: bool) -> None:
    if depth > MAX_DEPTH:
        raise _invalid(path, f"nested deeper than {MAX_DEPTH} levels", "too_deep")
    if isinstance(value, Mapping):
        for key, item in value.items():
            counter[0] += 1
            if counter[0] > MAX_KEYS:
                raise _invalid(path, f"at most {MAX_KEYS} keys", "too_many_keys")
            if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
                raise _invalid(
                    path, f"keys are 1 to {MAX_KEY_LENGTH} printable characters", "bad_key"
                )
            _check_text(key, path, _KEY_RULES, "bad_key")
            _check(item, f"{path}.{key}", depth=depth + 1, counter=counter, allow_null=allow_null)
    elif isinstance(value, list):
        if len(value) > MAX_LIST:
            raise _invalid(path, f"at most {MAX_LIST} items", "too_many_items")
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", depth=depth + 1, counter=counter, allow_null=False)
    elif isinstance(value, str):
        if len(value) > MAX_STRING:
            raise _invalid(path, f"at most {MAX_STRING} characters", "too_long")
        _check_text(value, path, _STRING_RULES, "text")
    elif isinstance(value, bool) or (value is None and allow_null):
        return
    elif isinstance(value, (int, float)):
        check_number(value, path)
    else:
        raise _invalid(path, "null is only allowed to remove a key", "type")


def _check_text(
    value: str, path: str, rules: tuple[Callable[[str], str], ...], reason: str
) -> None:
    for rule in rules:
        try:
            rule(value)
        except ValueError as exc:
            raise _invalid(path, str(exc), reason) from None


def check_number(value: int | float, path: str) -> None:
    """A number DynamoDB can store exactly (see NUMBER_DIGITS), checked before boto3 sees it."""
    if isinstance(value, float) and not math.isfinite(value):
        raise _invalid(path, "must be a finite number", "type")
    # floats are stored as their shortest repr (db.py), so that is what is counted
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if number.is_zero():
        return
    digits = len(number.as_tuple().digits)
    exponent = number.adjusted()
    if digits > NUMBER_DIGITS or not NUMBER_MIN_EXPONENT <= exponent <= NUMBER_MAX_EXPONENT:
        raise _invalid(
            path,
            f"numbers have at most {NUMBER_DIGITS} digits and a magnitude from 1e-130 to 1e126 "
            "(or are 0)",
            "number_range",
        )


def _check_known_profile_fields(profile: Mapping[str, Any]) -> None:
    bio = profile.get("bio")
    if bio is not None and (not isinstance(bio, str) or len(bio) > MAX_BIO):
        raise _invalid("profile.bio", f"a string of at most {MAX_BIO} characters", "type")
    if "website" in profile:
        check_url(profile["website"], "profile.website")
    if "location" in profile and not isinstance(profile["location"], Mapping):
        raise _invalid("profile.location", "must be an object", "type")
    links = profile.get("links")
    if links is not None:
        if not isinstance(links, list) or len(links) > MAX_LINKS:
            raise _invalid("profile.links", f"a list of at most {MAX_LINKS} links", "type")
        for index, link in enumerate(links):
            where = f"profile.links[{index}]"
            if isinstance(link, Mapping):
                check_url(link.get("url"), f"{where}.url")
                title = link.get("title")
                if title is not None and (not isinstance(title, str) or len(title) > 60):
                    raise _invalid(f"{where}.title", "a string of at most 60 characters", "type")
            else:
                check_url(link, where)


def _check_push_preferences(settings: Mapping[str, Any]) -> None:
    """``settings.push``: which notifications reach the user's phones (absent: all)."""
    if "push" not in settings:
        return
    chosen = settings["push"]
    if not isinstance(chosen, Mapping):
        raise _invalid("settings.push", "must be an object", "type")
    for name, value in chosen.items():
        if name not in models.PUSH_PREFERENCES:
            known = ", ".join(models.PUSH_PREFERENCES)
            raise _invalid(f"settings.push.{name}", f"unknown: one of {known}", "unknown")
        if not isinstance(value, bool):
            raise _invalid(f"settings.push.{name}", "true or false", "type")


def check_url(value: Any, path: str) -> None:
    """An absolute http(s) URL."""
    if not isinstance(value, str) or len(value) > MAX_URL or any(c.isspace() for c in value):
        raise _invalid(path, "must be an http(s) URL", "url")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _invalid(path, "must be an http(s) URL", "url")
