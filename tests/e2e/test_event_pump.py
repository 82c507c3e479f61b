"""The event pump delivers S3 and stream events from a real moto server to chalice handlers."""

import threading
import time

import pytest
from chalice import Chalice

from devstack.motoserver import MotoServer
from devstack.provision import S3_EVENTS_QUEUE, clients, provision
from devstack.pump import EventPump
from tests.e2e.stack import free_port


@pytest.fixture(scope="module")
def stack():
    server = MotoServer(free_port()).start()
    settings = provision(server.url)
    yield server, settings
    server.stop()


def _wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def wired(stack):
    server, settings = stack
    app = Chalice(app_name="pump-test")
    seen = {"s3": [], "stream": [], "failures": 0, "schedule": 0}
    lock = threading.Lock()

    @app.on_s3_event(bucket=settings["MEDIA_BUCKET"], prefix="uploads/")
    def on_upload(event):
        with lock:
            if event.key.endswith("flaky.jpg") and seen["failures"] == 0:
                seen["failures"] += 1
                raise RuntimeError("first delivery fails")
            seen["s3"].append((event.bucket, event.key))

    @app.on_dynamodb_record(stream_arn=settings["TABLE_STREAM_ARN"])
    def on_record(event):
        with lock:
            seen["stream"].extend((r.event_name, r.new_image) for r in event)

    @app.schedule("rate(1 minute)")
    def every_minute(event):
        seen["schedule"] += 1

    make = clients(server.url)
    pump = EventPump(app, make, S3_EVENTS_QUEUE, poll_interval=0.05).setup().start()
    yield make, settings, seen, pump
    pump.stop()


def test_s3_uploads_reach_the_handler_decoded_and_filtered(wired):
    make, settings, seen, _ = wired
    s3 = make("s3")
    started = time.monotonic()
    s3.put_object(Bucket=settings["MEDIA_BUCKET"], Key="uploads/u1/a photo.jpg", Body=b"x")
    s3.put_object(Bucket=settings["MEDIA_BUCKET"], Key="media/u1/not-an-upload.jpg", Body=b"x")
    assert _wait_for(lambda: seen["s3"], 2.0), "no S3 event within 2 s"
    elapsed = time.monotonic() - started
    time.sleep(0.3)
    assert seen["s3"] == [(settings["MEDIA_BUCKET"], "uploads/u1/a photo.jpg")]
    assert elapsed < 2.0


def test_failed_s3_delivery_is_retried(wired):
    make, settings, seen, _ = wired
    make("s3").put_object(Bucket=settings["MEDIA_BUCKET"], Key="uploads/u1/flaky.jpg", Body=b"x")
    assert _wait_for(lambda: any(k.endswith("flaky.jpg") for _, k in seen["s3"]), 8.0)
    assert seen["failures"] == 1


def test_stream_records_reach_the_handler(wired):
    make, settings, seen, _ = wired
    dynamodb = make("dynamodb")
    started = time.monotonic()
    dynamodb.put_item(
        TableName=settings["TABLE_NAME"],
        Item={"PK": {"S": "PUMP#1"}, "SK": {"S": "A"}, "n": {"N": "1"}},
    )
    dynamodb.delete_item(
        TableName=settings["TABLE_NAME"], Key={"PK": {"S": "PUMP#1"}, "SK": {"S": "A"}}
    )
    assert _wait_for(lambda: len([e for e in seen["stream"] if e[0] == "REMOVE"]) >= 1, 2.0)
    assert time.monotonic() - started < 2.0
    names = [name for name, image in seen["stream"] if name in ("INSERT", "REMOVE")]
    assert names[-2:] == ["INSERT", "REMOVE"]
    inserted = [image for name, image in seen["stream"] if name == "INSERT"][-1]
    assert inserted["PK"] == {"S": "PUMP#1"}


def test_a_cancelled_transaction_does_not_blind_the_pump(wired):
    # moto restores a copy of the table (and its stream shard) when a transaction is cancelled
    make, settings, seen, _ = wired
    dynamodb = make("dynamodb")
    item = {"PK": {"S": "PUMP#2"}, "SK": {"S": "A"}}
    put = {
        "Put": {
            "TableName": settings["TABLE_NAME"],
            "Item": item,
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }
    dynamodb.transact_write_items(TransactItems=[put])
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[put])
    dynamodb.put_item(
        TableName=settings["TABLE_NAME"], Item={"PK": {"S": "PUMP#3"}, "SK": {"S": "A"}}
    )
    assert _wait_for(
        lambda: any(img and img.get("PK") == {"S": "PUMP#3"} for _, img in seen["stream"]), 3.0
    )


def test_scheduled_handlers_are_wired_and_can_be_fired(wired):
    _, _, seen, pump = wired
    assert "schedule rate(1 minute) -> every_minute" in pump.describe()
    pump.run_schedule("every_minute")
    assert seen["schedule"] == 1
