"""The event pump: delivers S3 and DynamoDB-stream events to the app's own handlers.

``chalice local`` fires no events. In the cloud, S3 invokes the ``@app.on_s3_event`` function and
a Lambda event-source mapping feeds ``@app.on_dynamodb_record`` from the table's stream. Here the
bucket notifies an SQS queue on the moto server, and this pump reads that queue and the stream and
calls the very same handlers, with events of the shape Lambda gives them. Scheduled handlers
(``@app.schedule`` with a rate) fire on their rate. A failed delivery is retried (S3: twice, like
Lambda's asynchronous retries; stream batches: three times, then skipped and logged).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

log = logging.getLogger("devstack.pump")

S3_ATTEMPTS = 3
STREAM_ATTEMPTS = 3
_RATE_SECONDS = {
    "minute": 60,
    "minutes": 60,
    "hour": 3600,
    "hours": 3600,
    "day": 86400,
    "days": 86400,
}


class EventPump:
    """Polls the S3-event queue and the table's stream; calls the app's handlers."""

    def __init__(
        self,
        app: Any,
        make_client: Callable[[str], Any],
        queue_name: str,
        poll_interval: float = 0.2,
    ) -> None:
        from chalice.app import DynamoDBEventConfig, S3EventConfig, ScheduledEventConfig

        self._app = app
        self._make_client = make_client
        self._queue_name = queue_name
        self._poll_interval = poll_interval
        sources = app.event_sources
        self.s3_configs = [s for s in sources if isinstance(s, S3EventConfig)]
        self.stream_configs = [s for s in sources if isinstance(s, DynamoDBEventConfig)]
        self.schedules = [s for s in sources if isinstance(s, ScheduledEventConfig)]
        self._queue_url: str | None = None
        self._clients: dict[str, Any] = {}
        self._stream_positions: dict[tuple[str, str], str] = {}
        self._stream_failures: dict[str, int] = {}
        self._next_run: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0

    # Wiring -------------------------------------------------------------------------------------
    def setup(self) -> EventPump:
        """Point every bucket with S3 handlers at the queue (as `chalice deploy` would at the
        function). moto accepts only lower-case filter rule names."""
        if not self.s3_configs:
            return self
        sqs = self._client("sqs")
        self._queue_url = sqs.create_queue(
            QueueName=self._queue_name, Attributes={"VisibilityTimeout": "2"}
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        by_bucket: dict[str, list[dict[str, Any]]] = {}
        for config in self.s3_configs:
            rules = [
                {"Name": n, "Value": v}
                for n, v in (("prefix", config.prefix), ("suffix", config.suffix))
                if v
            ]
            entry: dict[str, Any] = {"QueueArn": arn, "Events": list(config.events)}
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": rules}}
            by_bucket.setdefault(config.bucket, []).append(entry)
        s3 = self._client("s3")
        for bucket, entries in by_bucket.items():
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"QueueConfigurations": entries}
            )
        now = time.monotonic()
        for config in self.schedules:
            if _rate_seconds(config.schedule_expression) is not None:
                self._next_run[config.name] = now + _rate_seconds(config.schedule_expression)
        return self

    def describe(self) -> list[str]:
        """One line per handler this pump serves."""
        return (
            [
                f"s3 {c.bucket}/{c.prefix or ''}*{c.suffix or ''} -> {c.name}"
                for c in self.s3_configs
            ]
            + [f"stream {c.stream_arn.rsplit('/', 3)[1]} -> {c.name}" for c in self.stream_configs]
            + [f"schedule {_expression(c.schedule_expression)} -> {c.name}" for c in self.schedules]
        )

    # Running ------------------------------------------------------------------------------------
    def start(self) -> EventPump:
        self._thread = threading.Thread(target=self._loop, name="event-pump", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Stop after the batch in hand (``stop`` waits for it)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # keep pumping: the next poll may succeed (moto restarting, ...)
                log.exception("event pump poll failed")
                busy = 0
            if not busy:
                self._stop.wait(self._poll_interval)

    def run_once(self) -> int:
        """One poll of every source; returns how many events were delivered."""
        delivered = self._pump_s3() + sum(self._pump_stream(c) for c in self.stream_configs)
        delivered += self._run_due_schedules()
        self.delivered += delivered
        return delivered

    def _pump_s3(self) -> int:
        if not self._queue_url:
            return 0
        sqs = self._client("sqs")
        answer = sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        delivered = 0
        for message in answer.get("Messages", []):
            body = json.loads(message["Body"])
            attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            try:
                for record in body.get("Records", []):  # an s3:TestEvent has none
                    for config in self._s3_matches(record):
                        self._invoke(config.name, {"Records": [record]})
                        delivered += 1
            except Exception:
                log.exception("S3 event handler failed (attempt %d of %d)", attempt, S3_ATTEMPTS)
                if attempt < S3_ATTEMPTS:
                    continue  # visible again after the queue's visibility timeout
                log.error("dropping S3 event after %d attempts: %s", attempt, message["Body"])
            sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        return delivered

    def _s3_matches(self, record: dict[str, Any]) -> list[Any]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        event = f"s3:{record['eventName']}"
        return [
            c
            for c in self.s3_configs
            if c.bucket == bucket
            and key.startswith(c.prefix or "")
            and key.endswith(c.suffix or "")
            and any(fnmatch.fnmatchcase(event, pattern) for pattern in c.events)
        ]

    def _pump_stream(self, config: Any) -> int:
        streams = self._client("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=config.stream_arn)["StreamDescription"]
        delivered = 0
        for shard in shards.get("Shards", []):
            position = (config.stream_arn, shard["ShardId"])
            # A fresh iterator on every poll: moto replaces the shard when a transaction is
            # cancelled, and an old iterator would keep reading the replaced one.
            if position in self._stream_positions:
                iterator = streams.get_shard_iterator(
                    StreamArn=config.stream_arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=self._stream_positions[position],
                )["ShardIterator"]
            else:
                iterator = streams.get_shard_iterator(
                    StreamArn=config.stream_arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType="TRIM_HORIZON",
                )["ShardIterator"]
            records = streams.get_records(ShardIterator=iterator, Limit=config.batch_size)[
                "Records"
            ]
            if not records:
                continue
            try:
                self._invoke(
                    config.name,
                    {"Records": [_lambda_record(r, config.stream_arn) for r in records]},
                )
                delivered += len(records)
            except Exception:
                failures = self._stream_failures.get(config.name, 0) + 1
                self._stream_failures[config.name] = failures
                log.exception(
                    "stream handler %s failed (attempt %d of %d)",
                    config.name,
                    failures,
                    STREAM_ATTEMPTS,
                )
                if failures < STREAM_ATTEMPTS:
                    continue
                log.error("skipping %d stream records after %d attempts", len(records), failures)
            self._stream_failures[config.name] = 0
            self._stream_positions[position] = records[-1]["dynamodb"]["SequenceNumber"]
        return delivered

    def _run_due_schedules(self) -> int:
        now = time.monotonic()
        ran = 0
        for config in self.schedules:
            due = self._next_run.get(config.name)
            if due is None or now < due:
                continue
            self._next_run[config.name] = now + (_rate_seconds(config.schedule_expression) or 0)
            self.run_schedule(config.name)
            ran += 1
        return ran

    def run_schedule(self, name: str) -> None:
        """Fire the scheduled handler ``name`` now, with a CloudWatch scheduled event."""
        self._invoke(
            name,
            {
                "version": "0",
                "id": f"devstack-{time.time_ns()}",
                "source": "aws.events",
                "detail-type": "Scheduled Event",
                "account": "123456789012",
                "time": datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": "us-east-1",
                "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{name}"],
                "detail": {},
            },
        )

    def _invoke(self, name: str, event: dict[str, Any]) -> Any:
        from chalice.local import LambdaContext

        context = LambdaContext(function_name=name, memory_size=512, max_runtime_ms=60_000)
        return self._app.handler_map[name](event, context)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._make_client(service)
        return self._clients[service]


def _lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A streams-API record in the shape Lambda hands to the function."""
    out = dict(record)
    dynamodb = dict(out["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()
    out["dynamodb"] = dynamodb
    out["eventSourceARN"] = stream_arn
    return out


def _expression(expression: Any) -> str:
    return expression if isinstance(expression, str) else expression.to_string()


def _rate_seconds(expression: Any) -> float | None:
    text = _expression(expression)
    if not text.startswith("rate(") or not text.endswith(")"):
        log.warning("schedule %s is not run by the local pump (only rate() is)", text)
        return None
    value, unit = text[5:-1].split()
    return int(value) * _RATE_SECONDS[unit]
