"""A narrow patch of moto 5.2.5's DynamoDB so the embedded stack costs what DynamoDB costs.

moto, as released, has three behaviours that make the embedded stack degrade with data or answer
what DynamoDB would not:

1. ``TransactWriteItems`` deep-copies every table it touches before it starts, so that it can
   restore the copy if the transaction is cancelled: a like costs in proportion to the table
   (0.2 s on a small table, 2.9 s at 20,000 items), not to the four items it writes.
2. Every model instance moto ever makes is appended to its class's ``instances_tracked`` list
   (for the ``/moto-api/data.json`` dashboard), including every item, every copy a Query returns
   and every table copy above: memory only grows (3.5 GB after ~470 comments).
3. ``ClientRequestToken`` is ignored, so a transaction retried by botocore after a read timeout
   conflicts with itself (a 409 for a post that was created).

A fourth makes every read grow with the table: a Query lists and sorts every item of the table
(by its Python-level key comparisons) to keep the queried partition's: ~27 ms at 4,000 items on
the table's key, ~480 ms on an index at 5,000 items.

This module replaces (1) with an undo journal of the items the transaction touches (each one's
previous state, and the stream shard's length), restored on exactly the paths where moto restored
its copy; replaces (2) with weak references (the dashboard still lists every live instance);
adds (3) as DynamoDB documents it: the same token and the same request within 10 minutes
succeed again without being applied, the same token with another request is an
``IdempotentParameterMismatchException`` (400); and hands a Query only the items moto would keep:
the queried partition on the table's key, or on an index with string keys the items whose
index key matches (found by comparing strings, sorted as moto sorts the table). Everything else
is moto's own code.

The patch is applied by the embedded moto server (``devstack/motoserver.py``), whose lock
serialises DynamoDB requests; it is written for moto 5.2.5 only and refuses any other version
(``apply()`` raises ``UnsupportedMoto``; the server then runs unpatched and says so).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

SUPPORTED_MOTO = "5.2.5"
TOKEN_WINDOW_SECONDS = 600.0  # DynamoDB: "valid for 10 minutes after the first request"

_applied = False
_apply_lock = threading.Lock()
_in_transaction = threading.local()


class UnsupportedMoto(RuntimeError):
    """The installed moto is not the version this patch was written and tested against."""


def apply() -> None:
    """Patch moto's DynamoDB in this process (idempotent). Raises ``UnsupportedMoto`` and
    changes nothing when the installed moto is not 5.2.5."""
    global _applied
    import moto

    if moto.__version__ != SUPPORTED_MOTO:
        raise UnsupportedMoto(
            f"devstack/motopatch.py is written for moto {SUPPORTED_MOTO}, found "
            f"{moto.__version__}: re-read moto's transact_write_items before patching it"
        )
    with _apply_lock:
        untrack_instances()
        if _applied:
            return
        from moto.dynamodb import models as backend_module
        from moto.dynamodb import responses

        backend_cls = backend_module.DynamoDBBackend
        _check_shape(backend_module, responses)
        backend_module.copy = _TableCopyShim()  # type: ignore[attr-defined]
        table_cls = backend_module.Table
        table_cls.query = _partition_query(table_cls.query)
        table_cls.all_items = _partition_items(table_cls.all_items)
        backend_cls.transact_write_items = _journaled(backend_cls.transact_write_items)
        handler = responses.DynamoHandler
        handler.transact_write_items = _idempotent(handler.transact_write_items)
        _applied = True


def applied() -> bool:
    """Whether ``apply()`` has patched this process."""
    return _applied


def _check_shape(backend_module: Any, responses: Any) -> None:
    """The names this patch relies on must be where 5.2.5 has them (a vendored moto fork with
    the same version string would otherwise be patched blindly)."""
    needed = [
        (backend_module, "copy"),
        (backend_module.DynamoDBBackend, "transact_write_items"),
        (backend_module.DynamoDBBackend, "get_table"),
        (responses.DynamoHandler, "transact_write_items"),
        (backend_module.Table, "query"),
        (backend_module.Table, "all_items"),
    ]
    for owner, name in needed:
        if not hasattr(owner, name):
            raise UnsupportedMoto(f"moto has no {getattr(owner, '__name__', owner)}.{name}")
    if backend_module.copy is not copy and not isinstance(backend_module.copy, _TableCopyShim):
        raise UnsupportedMoto("moto.dynamodb.models.copy is not the copy module")


# 1. Transactions: an undo journal instead of a copy of the table -------------------------------
class _TableCopyShim:
    """``moto.dynamodb.models.copy``: inside a journaled transaction, ``deepcopy(table)`` (the
    rollback copy) returns the table itself, so the rollback's ``tables[name] = copy`` changes
    nothing and the journal restores the touched items instead. Every other use is copy's."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        if getattr(_in_transaction, "active", False) and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


class _Journal:
    """The previous state of every item a transaction may write, and each stream's length."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        self._items: list[tuple[Any, Any, Any, Any]] = []  # (table, hash, range, old item)
        self._streams: dict[int, tuple[Any, list[Any], int]] = {}
        for entry in transact_items:
            located = _locate(backend, entry)
            if located is None:
                continue  # no valid key: moto refuses the op before it writes anything
            table, hash_value, range_value = located
            old = table.get_item(hash_value, range_value)
            # Update changes the stored Item in place: keep a copy of this one item only.
            self._items.append((table, hash_value, range_value, copy.deepcopy(old)))
            shard = table.stream_shard
            if shard is not None and id(shard) not in self._streams:
                self._streams[id(shard)] = (shard, shard.items, len(shard.items))

    def restore(self) -> None:
        """Put every touched item back as it was; drop the stream records written since."""
        for table, hash_value, range_value, old in reversed(self._items):
            if range_value is None:
                if old is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = old
            elif old is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = old
        for shard, records, length in self._streams.values():
            del records[length:]
            shard.items = records


def _locate(backend: Any, entry: dict[str, Any]) -> tuple[Any, Any, Any] | None:
    """(table, hash key, range key) of one TransactItems entry that writes, or None."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if len(entry) != 1:
        return None
    op_type, op = next(iter(entry.items()))
    if op_type not in ("Put", "Update", "Delete") or not isinstance(op, dict):
        return None
    try:
        table = backend.get_table(op["TableName"])
        attrs = op["Item"] if op_type == "Put" else op["Key"]
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_value = None
        if table.range_key_attr is not None:
            range_value = DynamoType(attrs[table.range_key_attr])
    except Exception:  # moto raises its own validation error for this op: no journal entry
        return None
    return table, hash_value, range_value


def _journaled(transact_write_items: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(transact_write_items)
    def journaled(self: Any, transact_items: list[dict[str, Any]]) -> None:
        journal = _Journal(self, transact_items)
        _in_transaction.active = True
        try:
            transact_write_items(self, transact_items)
        except BaseException:
            # moto raised after "restoring" its (now identical) table: undo what was written
            journal.restore()
            raise
        finally:
            _in_transaction.active = False

    return journaled


# 4. Queries: the partition (or the index partition), not the table ----------------------------
def _partition_query(query: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(query)
    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        # moto's own call passes index_name 7th positionally (after hash_key, 6 more)
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        conditions = kwargs.get("hash_key_conditions") or []
        if not index_name and hash_key is not None:
            _in_query.scope = (self, "table", hash_key)
        elif index_name and conditions and all(v.type == "S" for _, v in conditions):
            # string keys: equal exactly when moto's DynamoType equality says so
            _in_query.scope = (self, "index", [(a, v.value) for a, v in conditions])
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _in_query.scope = None

    return partition_query


def _partition_items(all_items: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(all_items)
    def partition_items(self: Any) -> Any:
        scope = getattr(_in_query, "scope", None)
        if scope is None or scope[0] is not self:
            return all_items(self)
        _, kind, wanted = scope
        if kind == "table":
            # moto keeps the items whose hash key equals the queried one, then sorts them
            if self.range_key_attr is None:
                item = self.items.get(wanted)
                return [] if item is None else [item]
            return list(self.items.get(wanted, {}).values())
        # an index: the items moto's hash conditions keep, in all_items' order (moto's
        # sort of the index then breaks ties the same way); sorting only these is the saving
        kept = [
            item
            for item in _every_item(self)
            if all(
                (value := item.attrs.get(name)) is not None
                and value.type == "S"
                and value.value == expected
                for name, expected in wanted
            )
        ]
        return sorted(kept, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    return partition_items


def _every_item(table: Any) -> Iterator[Any]:
    for hash_set in table.items.values():
        if table.range_key_attr:
            yield from hash_set.values()
        else:
            yield hash_set


_in_query = threading.local()


# 2. Instance tracking: weak references ---------------------------------------------------------
class _LiveInstances:
    """Stands in for a model class's ``instances_tracked`` list without keeping anything alive:
    moto appends and the dashboard iterates; an instance nobody else holds is forgotten."""

    def __init__(self) -> None:
        self._refs: dict[int, weakref.ref[Any]] = {}

    def append(self, instance: Any) -> None:
        key = id(instance)
        self._refs[key] = weakref.ref(instance, lambda _, k=key: self._refs.pop(k, None))

    def __iter__(self) -> Iterator[Any]:
        return iter([alive for ref in list(self._refs.values()) if (alive := ref()) is not None])

    def __len__(self) -> int:
        return len(self._refs)


def untrack_instances() -> None:
    """Give every DynamoDB model class weak instance tracking (again after a moto-api reset,
    which puts plain lists back)."""
    import moto.dynamodb.models  # noqa: F401 (registers the DynamoDB model classes)
    from moto.core.model_instances import model_data

    for service in ("dynamodb", "dynamodbstreams"):
        for model in model_data.get(service, {}).values():
            if not isinstance(model.instances_tracked, _LiveInstances):  # type: ignore[attr-defined]
                model.instances_tracked = _LiveInstances()  # type: ignore[attr-defined]


# 3. ClientRequestToken -------------------------------------------------------------------------
class _Tokens:
    """Tokens seen in the last 10 minutes: fingerprint of the request and whether it applied."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[float, str, bool]] = {}

    def lookup(self, token: str, fingerprint: str, now: float) -> bool:
        """True when this exact request already succeeded under ``token`` (answer success
        again); raises the mismatch error when ``token`` came with another request."""
        for old, (seen_at, _, _) in list(self._seen.items()):
            if now - seen_at > TOKEN_WINDOW_SECONDS:
                del self._seen[old]
        if token not in self._seen:
            return False
        _, seen_fingerprint, succeeded = self._seen[token]
        if seen_fingerprint != fingerprint:
            raise _mismatch()
        return succeeded

    def record(self, token: str, fingerprint: str, succeeded: bool, now: float) -> None:
        """Remember ``token``; the window runs from the first request that completed."""
        first = self._seen.get(token)
        self._seen[token] = (
            first[0] if first else now,
            fingerprint,
            succeeded or bool(first and first[2]),
        )


def _mismatch() -> Exception:
    from moto.dynamodb.exceptions import DynamodbException

    return DynamodbException(
        "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
        "The request uses the same client token as a previous, but non-identical request.",
    )


def _tokens_of(backend: Any) -> _Tokens:
    tokens = getattr(backend, "_echomate_client_tokens", None)
    if tokens is None:
        tokens = backend._echomate_client_tokens = _Tokens()
    return tokens  # type: ignore[no-any-return]


def _idempotent(handle: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(handle)
    def idempotent(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return handle(self)
        from moto.core.responses import EmptyResult

        request = {k: v for k, v in self.body.items() if k != "ClientRequestToken"}
        fingerprint = hashlib.sha256(
            json.dumps(request, sort_keys=True, separators=(",", ":"), default=repr).encode()
        ).hexdigest()
        tokens = _tokens_of(self.dynamodb_backend)
        if tokens.lookup(token, fingerprint, time.monotonic()):
            return EmptyResult()  # already applied: success, nothing written again
        succeeded = False
        try:
            answer = handle(self)
            succeeded = True
            return answer
        finally:
            tokens.record(token, fingerprint, succeeded, time.monotonic())

    return idempotent
