"""The single-table access layer.

Items go in as entities (``entities``: each builds its own keys and item) and come out as
entities, with the key attributes stripped and every ``Decimal`` turned back into an int (or a
float), so a count is a JSON integer; never as raw items. Lists are paginated with opaque
cursors: base64url of the last item's key, signed with HMAC-SHA256 over the listing they belong
to, so a tampered or transplanted cursor is a 400.
Conditional writes that fail become domain errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, Generic, TypeVar, overload

from pydantic import BaseModel

from chalicelib import aws
from chalicelib.config import get_settings
from chalicelib.entities import Entity, ItemKey, attributes, decode
from chalicelib.errors import Conflict, EchomateError, Invalid, RateLimited
from chalicelib.keys import INDEX_KEYS, PK, SK, index_names
from chalicelib.models import MAX_CURSOR_LENGTH, MAX_PAGE

E = TypeVar("E", bound=Entity)
T = TypeVar("T")
R = TypeVar("R")
_TRANSACTION_ATTEMPTS = 4


# Conversion at the storage edge ----------------------------------------------------------------
def to_dynamo(value: Any) -> Any:
    """Plain Python as boto3 takes it: floats become Decimals (boto3 refuses floats)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_dynamo(v) for v in value]
    return value


# Cursors ---------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """The bytes of canonical unpadded base64url text; ValueError for anything else (the last
    character's spare bits must be zero, so one cursor has exactly one spelling)."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def encode_cursor(key: Mapping[str, str], scope: str, secret: bytes) -> str:
    """An opaque, URL-safe cursor for ``key`` valid only for the listing named by ``scope``:
    sealed with AES-256-GCM (the listing is its associated data), so it reveals nothing of the
    key (a followers-only post's id, say) and any change to it is detected."""
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # on first use: ~80 ms

    nonce = os.urandom(12)
    plain_key = json.dumps(dict(key), separators=(",", ":"), sort_keys=True).encode()
    sealed = AESGCM(_sealing_key(secret)).encrypt(nonce, plain_key, scope.encode())
    return f"{_b64(nonce)}.{_b64(sealed)}"


def decode_cursor(
    cursor: str, scope: str, secret: bytes, attributes: Iterable[str]
) -> dict[str, str]:
    """The key inside ``cursor``; ``Invalid`` if it was tampered with or belongs elsewhere."""
    bad = Invalid("cursor: invalid cursor", [{"field": "cursor", "reason": "invalid"}])
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
        raise bad
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce_text, sealed_text = cursor.split(".")
    try:
        nonce, sealed = _unb64(nonce_text), _unb64(sealed_text)
        if len(nonce) != 12:
            raise bad
        key = json.loads(AESGCM(_sealing_key(secret)).decrypt(nonce, sealed, scope.encode()))
    except (binascii.Error, ValueError, InvalidTag) as exc:
        raise bad from exc
    if (
        not isinstance(key, dict)
        or set(key) != set(attributes)
        or not all(isinstance(v, str) for v in key.values())
    ):
        raise bad
    return key


@cache
def _sealing_key(secret: bytes) -> bytes:
    """The AES-256 key of cursors, derived from the cursor secret (kept for no other use)."""
    return hmac.new(secret, b"echomate cursor sealing key v1", hashlib.sha256).digest()


@cache
def cursor_secret() -> bytes:
    """The HMAC key of cursors: from the settings, or fetched once from Secrets Manager."""
    settings = get_settings()
    if settings.cursor_secret:
        return settings.cursor_secret.get_secret_value().encode()
    answer = aws.client("secretsmanager").get_secret_value(SecretId=settings.cursor_secret_arn)
    secret: str = answer["SecretString"]
    return secret.encode()


# Pages -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next one (None when there is no more)."""

    items: list[T]
    next_cursor: str | None

    def map(self, convert: Callable[[list[T]], list[R]]) -> Page[R]:
        """The same page (same cursor) with its items converted as a whole."""
        return Page(convert(self.items), self.next_cursor)

    def as_json(self) -> dict[str, Any]:
        items = [
            i.model_dump(mode="json", by_alias=True) if isinstance(i, BaseModel) else i
            for i in self.items
        ]
        return {"items": items, "nextCursor": self.next_cursor}

    def json_text(self) -> str:
        """The page as JSON text, each item serialised once by pydantic."""
        items = ",".join(
            i.model_dump_json(by_alias=True) if isinstance(i, BaseModel) else json.dumps(i)
            for i in self.items
        )
        return f'{{"items":[{items}],"nextCursor":{json.dumps(self.next_cursor)}}}'


def check_limit(limit: int) -> int:
    """Page sizes are 1..100; out of range is a 400 (never clamped)."""
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(
            f"limit: must be between 1 and {MAX_PAGE}",
            [{"field": "limit", "reason": "out_of_range"}],
        )
    return limit


# Transactions ----------------------------------------------------------------------------------
@dataclass
class TxOp:
    """One operation of a TransactWriteItems call, with the error its failed condition means."""

    kind: str  # Put | Update | Delete | ConditionCheck
    params: dict[str, Any]
    on_condition_failure: EchomateError | None = None


def tx_put(
    entity: Entity,
    condition: str | None = None,
    *,
    values: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
    on_fail: EchomateError | None = None,
) -> TxOp:
    """Put ``entity``; ``condition`` e.g. ``attribute_not_exists(PK)``."""
    return _op("Put", condition, values, names, on_fail, Item=entity.to_item())


def _key(key: tuple[str, str]) -> dict[str, str]:
    if not isinstance(key, tuple) or len(key) != 2:  # a (pk, sk) pair, e.g. Post.key_of(id)
        raise TypeError(f"an item key is a (PK, SK) pair, not {key!r}")
    return {PK: key[0], SK: key[1]}


def tx_update(
    key: tuple[str, str],
    update: str,
    condition: str | None = None,
    *,
    values: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
    on_fail: EchomateError | None = None,
) -> TxOp:
    """Update the item at ``key`` (counters move here, in the same transaction)."""
    return _op("Update", condition, values, names, on_fail, Key=_key(key), UpdateExpression=update)


def tx_delete(
    key: tuple[str, str],
    condition: str | None = None,
    *,
    values: Mapping[str, Any] | None = None,
    names: Mapping[str, str] | None = None,
    on_fail: EchomateError | None = None,
) -> TxOp:
    """Delete the item at ``key``."""
    return _op("Delete", condition, values, names, on_fail, Key=_key(key))


def _op(
    kind: str,
    condition: str | None,
    values: Mapping[str, Any] | None,
    names: Mapping[str, str] | None,
    on_fail: EchomateError | None,
    **target: Any,
) -> TxOp:
    """The one builder behind ``tx_put``/``tx_update``/``tx_delete``."""
    names = {**index_names(target.get("UpdateExpression"), condition), **(names or {})}
    params = _params(
        ConditionExpression=condition,
        ExpressionAttributeValues=values,
        ExpressionAttributeNames=names or None,
    )
    return TxOp(kind, target | params, on_fail)


def _params(**params: Any) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


# The store -------------------------------------------------------------------------------------
class Store:
    """Access to the single table through one low-level DynamoDB client (tests can pass
    another). Values go to and from the wire format here (``to_wire``, ``from_wire``: boto3's
    own ``TypeSerializer``/``TypeDeserializer``, what its resource layer uses); a client instead
    of a resource Table saves ~90 ms of a cold start's first request (the resource model and a
    second client), see docs/performance.md."""

    def __init__(self, client: Any, table_name: str, secret: bytes) -> None:
        self._client = client
        self._table_name = table_name
        self._secret = secret

    @property
    def table_name(self) -> str:
        return self._table_name

    @overload
    def get(self, key: tuple[str, str], model: type[E], *, consistent: bool = ...) -> E | None: ...
    @overload
    def get(
        self, key: tuple[str, str], model: None = None, *, consistent: bool = ...
    ) -> Entity | None: ...
    def get(
        self, key: tuple[str, str], model: type[E] | None = None, *, consistent: bool = False
    ) -> E | Entity | None:
        """The item at ``key`` as ``model`` (or as whatever entity it is), None if absent."""
        answer = self._call(
            self._client.get_item,
            TableName=self._table_name,
            Key=to_wire(_key(key)),
            ConsistentRead=consistent,
        )
        item = answer.get("Item")
        return None if item is None else _as(from_wire(item), model)

    def put(
        self,
        entity: Entity,
        *,
        condition: str | None = None,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
        on_fail: EchomateError | None = None,
    ) -> None:
        """Write ``entity``; a failed ``condition`` raises ``on_fail`` (default: Conflict)."""
        params = _params(
            TableName=self._table_name,
            Item=to_wire(entity.to_item()),
            ConditionExpression=condition,
            ExpressionAttributeValues=to_wire(values) if values else None,
            ExpressionAttributeNames=dict(names) if names else None,
        )
        try:
            self._call(self._client.put_item, **params)
        except _ConditionFailed as exc:
            raise (on_fail or Conflict("already exists")) from exc

    def update(
        self,
        key: tuple[str, str],
        expression: str,
        *,
        condition: str | None = None,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
        on_fail: EchomateError | None = None,
    ) -> dict[str, Any]:
        """Apply ``expression`` to the item at ``key``; returns the attributes it changed, as
        they are now (a counter's new value). A failed ``condition`` raises ``on_fail``
        (default: Conflict)."""
        all_names = {**index_names(expression, condition), **(names or {})}
        params = _params(
            TableName=self._table_name,
            Key=to_wire(_key(key)),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues=to_wire(values) if values else None,
            ExpressionAttributeNames=all_names or None,
            ReturnValues="UPDATED_NEW",
        )
        try:
            answer = self._call(self._client.update_item, **params)
        except _ConditionFailed as exc:
            raise (on_fail or Conflict("conflict")) from exc
        return attributes(from_wire(answer.get("Attributes", {})))

    def delete(
        self,
        key: tuple[str, str],
        *,
        condition: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> bool:
        """Remove the item at ``key``; absent is fine (deletes are idempotent).

        With ``condition``, only if it holds: False when it did not (nothing deleted).
        """
        params = _params(
            TableName=self._table_name,
            Key=to_wire(_key(key)),
            ConditionExpression=condition,
            ExpressionAttributeValues=to_wire(values) if values else None,
        )
        try:
            self._call(self._client.delete_item, **params)
        except _ConditionFailed:
            return False
        return True

    @overload
    def query_page(
        self,
        partition: str,
        *,
        index: str | None = ...,
        limit: int = ...,
        cursor: str | None = ...,
        sk_prefix: str | None = ...,
        sk_before: str | None = ...,
        newest_first: bool = ...,
        model: type[E],
    ) -> Page[E]: ...
    @overload
    def query_page(
        self,
        partition: str,
        *,
        index: str | None = ...,
        limit: int = ...,
        cursor: str | None = ...,
        sk_prefix: str | None = ...,
        sk_before: str | None = ...,
        newest_first: bool = ...,
        model: None = None,
    ) -> Page[Entity]: ...
    def query_page(
        self,
        partition: str,
        *,
        index: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
        sk_prefix: str | None = None,
        sk_before: str | None = None,
        newest_first: bool = True,
        model: type[E] | None = None,
    ) -> Page[E] | Page[Entity]:
        """One page of the items of ``partition`` (on the table or a GSI), by sort key, as
        ``model`` (a partition of one kind) or as whatever entity each item is."""
        items, next_cursor = self._query(
            partition, index, limit, cursor, sk_prefix, sk_before, newest_first, keys_only=False
        )
        if model is not None:
            return Page([model.from_item(i) for i in items], next_cursor)
        return Page([decode(i) for i in items], next_cursor)

    def query_keys(
        self,
        partition: str,
        *,
        index: str | None = None,
        limit: int = 25,
        sk_prefix: str | None = None,
        sk_before: str | None = None,
    ) -> list[ItemKey]:
        """The primary keys of the first ``limit`` items of ``partition``, oldest first (only
        the key attributes travel: for deleting what a partition lists)."""
        items, _ = self._query(
            partition, index, limit, None, sk_prefix, sk_before, False, keys_only=True
        )
        return [ItemKey(i[PK], i[SK]) for i in items]

    def _query(
        self,
        partition: str,
        index: str | None,
        limit: int,
        cursor: str | None,
        sk_prefix: str | None,
        sk_before: str | None,
        newest_first: bool,
        *,
        keys_only: bool,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Raw items of one page and the next page's cursor.

        Asks for one item more than the page to know whether another page exists, so the
        last page has no cursor (an exactly full page on AWS would otherwise return one).
        """
        check_limit(limit)
        pk_name, sk_name = INDEX_KEYS[index]
        scope = f"{self.table_name}|{index}|{partition}|{sk_prefix}|{sk_before}|{newest_first}"
        cursor_attributes = sorted({PK, SK, pk_name, sk_name})
        params: dict[str, Any] = {
            **_key_condition(pk_name, partition, sk_name, sk_prefix, sk_before),
            "TableName": self._table_name,
            "ScanIndexForward": not newest_first,
            "Limit": limit + 1,
        }
        if index:
            params["IndexName"] = index
        if keys_only:
            params["ProjectionExpression"] = ", ".join(cursor_attributes)
        if cursor is not None:
            start = decode_cursor(cursor, scope, self._secret, cursor_attributes)
            if start[pk_name] != partition:
                raise Invalid("cursor: invalid cursor", [{"field": "cursor", "reason": "invalid"}])
            params["ExclusiveStartKey"] = to_wire(start)
        items: list[dict[str, Any]] = []
        while len(items) <= limit:
            answer = self._call(self._client.query, **params)
            items.extend(from_wire(item) for item in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                break
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
            params["Limit"] = limit + 1 - len(items)
        next_cursor = None
        if len(items) > limit:
            items = items[:limit]
            last = items[-1]
            next_cursor = encode_cursor(
                {a: last[a] for a in cursor_attributes}, scope, self._secret
            )
        return items, next_cursor

    @overload
    def batch_get(
        self, keys: Sequence[tuple[str, str]], model: type[E]
    ) -> dict[tuple[str, str], E]: ...
    @overload
    def batch_get(
        self, keys: Sequence[tuple[str, str]], model: None = None
    ) -> dict[tuple[str, str], Entity]: ...
    def batch_get(
        self, keys: Sequence[tuple[str, str]], model: type[E] | None = None
    ) -> dict[tuple[str, str], E] | dict[tuple[str, str], Entity]:
        """Items by key (up to 100), as ``model`` or as whatever entity each is, retrying
        unprocessed keys; absent keys are left out."""
        found: dict[tuple[str, str], Any] = {}
        pending = [to_wire(_key(k)) for k in dict.fromkeys(keys)]
        attempt = 0
        while pending:
            answer = self._call(
                self._client.batch_get_item,
                RequestItems={self.table_name: {"Keys": pending[:100]}},
            )
            for raw in answer.get("Responses", {}).get(self.table_name, []):
                item = from_wire(raw)
                found[ItemKey(item[PK], item[SK])] = _as(item, model)
            unprocessed = answer.get("UnprocessedKeys", {}).get(self.table_name, {})
            pending = unprocessed.get("Keys", []) + pending[100:]
            if unprocessed:
                attempt += 1
                time.sleep(min(1.0, 0.05 * 2**attempt) * random.random())  # noqa: S311
        return found

    def batch_write(
        self,
        puts: Iterable[Entity] = (),
        deletes: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Unconditional puts and deletes, 25 a request, unprocessed items retried (boto3's
        ``BatchWriter``, as a resource Table's ``batch_writer()`` makes it)."""
        from boto3.dynamodb.table import BatchWriter

        writer = BatchWriter(self._table_name, self._client, overwrite_by_pkeys=[PK, SK])
        with writer as batch:
            for entity in puts:
                batch.put_item(Item=to_wire(entity.to_item()))
            for key in deletes:
                batch.delete_item(Key=to_wire(_key(key)))

    def delete_listed(
        self,
        partition: str,
        *,
        index: str | None = None,
        sk_prefix: str | None = None,
        sk_before: str | None = None,
        before_page: Callable[[], None] | None = None,
    ) -> None:
        """Delete every item a Query of ``partition`` lists, a page of 25 keys at a time, until
        none is left (idempotent). ``before_page`` runs before each page (a job's budget)."""
        while True:
            if before_page is not None:
                before_page()
            found = self.query_keys(
                partition, index=index, sk_prefix=sk_prefix, sk_before=sk_before
            )
            if not found:
                return
            self.batch_write(deletes=found)

    def trim(self, partition: str, keep: int) -> None:
        """Delete all but the ``keep`` items of ``partition`` with the greatest sort keys.

        A COUNT Query finds the boundary (the LastEvaluatedKey after ``keep`` items), so nothing
        kept is transferred; then the older items go 25 a request.
        """
        params: dict[str, Any] = {
            **_key_condition(PK, partition, SK, None, None),
            "TableName": self._table_name,
            "ScanIndexForward": False,
            "Select": "COUNT",
        }
        counted = 0
        while counted < keep:
            answer = self._call(self._client.query, Limit=keep - counted, **params)
            counted += answer["Count"]
            if "LastEvaluatedKey" not in answer:
                return  # fewer than ``keep`` items (or exactly): nothing to trim
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        self.delete_listed(partition, sk_before=from_wire(params["ExclusiveStartKey"])[SK])

    def transact_unless(self, ops: Sequence[TxOp], unless: EchomateError) -> bool:
        """``transact_write``, where the failed condition that raises ``unless`` means "already
        done": False then (nothing written), True when the transaction was applied. The shape
        of every idempotent toggle (like/unlike, follow/unfollow)."""
        try:
            self.transact_write(ops)
        except EchomateError as exc:
            if exc is not unless:
                raise
            return False
        return True

    def transact_write(self, ops: Sequence[TxOp]) -> None:
        """All of ``ops`` or none. A failed condition raises that op's ``on_fail`` error.

        A transaction conflicting with another one in flight, or throttled, is retried with
        jitter (at most ~0.3 s in all). One ClientRequestToken covers the call and all its
        retries (botocore's after a timeout, and these): a retry of a transaction that was in
        fact applied then succeeds without applying it twice, instead of failing its condition.
        """
        import uuid

        from botocore.exceptions import ClientError

        if not 1 <= len(ops) <= 100:
            raise ValueError("a transaction holds 1 to 100 operations")
        items = [{op.kind: _serialize(op.params, self.table_name)} for op in ops]
        token = str(uuid.uuid4())
        for attempt in range(_TRANSACTION_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=items, ClientRequestToken=token)
                return
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                if code == "TransactionCanceledException":
                    reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                    for op, reason in zip(ops, reasons, strict=False):
                        if reason == "ConditionalCheckFailed":
                            raise (op.on_condition_failure or Conflict("conflict")) from exc
                    retryable = {"TransactionConflict", "ThrottlingError"}.intersection(reasons)
                    if retryable and attempt + 1 < _TRANSACTION_ATTEMPTS:
                        time.sleep(0.02 * 2**attempt * (1 + random.random()))  # noqa: S311
                        continue
                    if "ThrottlingError" in reasons:
                        raise RateLimited("the table is busy; retry shortly", 1) from exc
                    raise Conflict("concurrent update; retry the request") from exc
                _raise_throttled(exc)
                raise

    def _call(self, method: Any, **params: Any) -> Any:
        from botocore.exceptions import ClientError

        try:
            return method(**params)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise _ConditionFailed() from exc
            _raise_throttled(exc)
            raise


class _ConditionFailed(Exception):
    pass


_THROTTLED = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
}


def _raise_throttled(exc: Any) -> None:
    if exc.response["Error"]["Code"] in _THROTTLED:
        raise RateLimited("the table is busy; retry shortly", 1) from exc


def _serialize(params: Mapping[str, Any], table_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {"TableName": table_name}
    for name, value in params.items():
        typed = name in ("Item", "Key", "ExpressionAttributeValues")
        out[name] = to_wire(value) if typed else value
    return out


@cache
def _codecs() -> tuple[Any, Any]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def to_wire(values: Mapping[str, Any]) -> dict[str, Any]:
    """Attribute values in DynamoDB's wire format (``{"S": ...}``, ``{"N": ...}``), floats as
    Decimals."""
    serializer = _codecs()[0]
    return {name: serializer.serialize(to_dynamo(value)) for name, value in values.items()}


def from_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item (or a stream image) from DynamoDB's wire format as Python values (numbers as
    ``Decimal``, as boto3 gives them; ``entities`` makes ints of them)."""
    deserializer = _codecs()[1]
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def _key_condition(
    pk_name: str, partition: str, sk_name: str, sk_prefix: str | None, sk_before: str | None
) -> dict[str, Any]:
    """A Query's key condition: the partition, and the sort keys from a prefix or before one."""
    expression, names, values = "#pk = :pk", {"#pk": pk_name}, {":pk": partition}
    if sk_prefix:
        expression += " AND begins_with(#sk, :sk)"
    elif sk_before:
        expression += " AND #sk < :sk"
    if sk_prefix or sk_before:
        names["#sk"] = sk_name
        values[":sk"] = sk_prefix or sk_before or ""
    return {
        "KeyConditionExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_wire(values),
    }


def _as(item: Mapping[str, Any], model: type[E] | None) -> Entity:
    return model.from_item(item) if model is not None else decode(item)


@cache
def get_store() -> Store:
    """The store of the stage's table, created on first use."""
    return Store(aws.client("dynamodb"), get_settings().table_name, cursor_secret())


def reset() -> None:
    """Forget the cached store (tests switch between moto instances)."""
    get_store.cache_clear()
    cursor_secret.cache_clear()
