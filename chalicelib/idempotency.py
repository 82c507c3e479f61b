"""``Idempotency-Key`` on every create (posts, comments, uploads).

A create sent with a key writes, in the same transaction as what it creates, a record of its
first answer (``IdempotencyRecord``, kept 24 h, per user, operation and key). The same key with
the same body returns that answer and creates nothing; with a different body it is a 409. Two
concurrent first tries race on the record's condition: one creates, the other returns the
winner's answer.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel

from chalicelib import db
from chalicelib.entities import IdempotencyRecord
from chalicelib.errors import Conflict, Invalid

TTL_SECONDS = 24 * 3600
M = TypeVar("M", bound=BaseModel)


class Key:
    """One create's key (None: the request sent no ``Idempotency-Key``)."""

    def __init__(
        self, user_id: str, operation: str, key: str | None, body: BaseModel, scope: str = ""
    ) -> None:
        if key is not None and not re.fullmatch(r"[A-Za-z0-9_.:-]{1,128}", key):
            raise Invalid(
                "Idempotency-Key: 1 to 128 letters, digits or _.:-",
                [{"field": "Idempotency-Key", "reason": "format"}],
            )
        self.user_id, self.operation, self.key = user_id, operation, key
        self.request_hash = hashlib.sha256(
            f"{operation}\n{scope}\n{body.model_dump_json()}".encode()
        ).hexdigest()

    def replay(self, model: type[M]) -> M | None:
        """The first answer to this key, if there was one (a 409 if it was another body)."""
        if self.key is None:
            return None
        record = db.get_store().get(
            IdempotencyRecord.key_of(self.user_id, self.operation, self.key),
            IdempotencyRecord,
            consistent=True,
        )
        if record is None:
            return None
        if record.request_hash != self.request_hash:
            raise Conflict(
                "Idempotency-Key: already used for a different request",
                [{"field": "Idempotency-Key", "reason": "reused"}],
            )
        return model.model_validate(record.response)

    def write(self, ops: Sequence[db.TxOp], answer: M) -> M:
        """Run the create's transaction (with the record when a key was sent): ``answer``, or
        the answer of a concurrent first try that won."""
        if self.key is None:
            db.get_store().transact_write(ops)
            return answer
        duplicate = Conflict("duplicate request")
        record = IdempotencyRecord(
            user_id=self.user_id,
            operation=self.operation,
            idempotency_key=self.key,
            request_hash=self.request_hash,
            response=answer.model_dump(mode="json", by_alias=True),
            ttl=int(time.time()) + TTL_SECONDS,
        )
        try:
            db.get_store().transact_write(
                [*ops, db.tx_put(record, "attribute_not_exists(PK)", on_fail=duplicate)]
            )
        except Conflict as exc:
            if exc is not duplicate:
                raise
            return self.replay(type(answer)) or answer
        return answer
