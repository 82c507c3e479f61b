"""The embedded moto server's DynamoDB patch (devstack/motopatch.py), through real HTTP calls.

moto's semantics stay: a cancelled transaction changes nothing (items, counters, stream); what
changes is the cost (no copy of the table, no strong reference to every instance) and that
ClientRequestToken is honoured as DynamoDB documents it.
"""

import gc
import uuid

import pytest
from botocore.exceptions import ClientError

from devstack import motopatch
from devstack.motoserver import MotoServer
from devstack.provision import clients
from tests.e2e.stack import free_port


@pytest.fixture(scope="module")
def dynamodb():
    # moto's backends are per process: a table of its own, whatever other servers provisioned
    server = MotoServer(free_port()).start()
    client = clients(server.url)("dynamodb")
    table = f"motopatch-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("PK", "SK", "GSI1PK", "GSI1SK")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    yield client, table
    server.stop()


def _item(pk, sk="A", **extra):
    return {"PK": {"S": pk}, "SK": {"S": sk}, **extra}


def _like(table, post, user, token=None):
    """A like as the app writes it: a new like item unless it exists, and the counter + 1."""
    request = {
        "TransactItems": [
            {
                "Put": {
                    "TableName": table,
                    "Item": _item(post, f"LIKE#{user}"),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": _item(post),
                    "UpdateExpression": "ADD likeCount :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    }
    if token:
        request["ClientRequestToken"] = token
    return request


def _count(client, table, post):
    item = client.get_item(TableName=table, Key=_item(post)).get("Item", {})
    return int(item.get("likeCount", {"N": "0"})["N"])


def test_the_patch_is_applied_by_the_embedded_server(dynamodb):
    assert motopatch.applied()


def test_a_transaction_applies_and_a_cancelled_one_changes_nothing(dynamodb):
    client, table = dynamodb
    client.put_item(TableName=table, Item=_item("POST#1", likeCount={"N": "0"}))
    client.transact_write_items(**_like(table, "POST#1", "u1"))
    assert _count(client, table, "POST#1") == 1
    with pytest.raises(ClientError) as raised:  # u1 again: the like exists
        client.transact_write_items(**_like(table, "POST#1", "u1"))
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["ConditionalCheckFailed", "None"]
    assert _count(client, table, "POST#1") == 1


def test_a_failure_after_earlier_writes_undoes_them(dynamodb):
    # op 1 writes a new item, op 2 updates an existing one, op 3 fails while executing (ADD to a
    # string): moto applied 1 and 2 before it reached 3, and all must be undone
    client, table = dynamodb
    client.put_item(TableName=table, Item=_item("POST#2", likeCount={"N": "5"}, title={"S": "t"}))
    items = [
        {"Put": {"TableName": table, "Item": _item("POST#2", "LIKE#u9")}},
        {
            "Update": {
                "TableName": table,
                "Key": _item("POST#2"),
                "UpdateExpression": "ADD likeCount :one SET title = :new",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":new": {"S": "changed"}},
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": _item("POST#2", "OTHER"),
                "UpdateExpression": "ADD title :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
    ]
    client.put_item(TableName=table, Item=_item("POST#2", "OTHER", title={"S": "text"}))
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=items)
    # moto refuses it as a ValidationException after it applied ops 1 and 2 (its rollback path)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    post = client.get_item(TableName=table, Key=_item("POST#2"))["Item"]
    assert post["likeCount"] == {"N": "5"}
    assert post["title"] == {"S": "t"}
    assert "Item" not in client.get_item(TableName=table, Key=_item("POST#2", "LIKE#u9"))


def test_a_cancelled_transaction_leaves_no_stream_record(dynamodb):
    from moto.backends import get_backend

    client, table = dynamodb
    backend = get_backend("dynamodb")["123456789012"]["us-east-1"]
    shard = backend.get_table(table).stream_shard
    client.put_item(TableName=table, Item=_item("POST#3", likeCount={"N": "0"}))
    client.transact_write_items(**_like(table, "POST#3", "u1"))
    before = len(shard.items)
    with pytest.raises(ClientError):
        client.transact_write_items(**_like(table, "POST#3", "u1"))
    assert backend.get_table(table).stream_shard is shard  # the same shard: iterators stay valid
    assert len(shard.items) == before


def test_a_transaction_does_not_copy_the_table(dynamodb, monkeypatch):
    from moto.dynamodb.models.table import Table

    def refuse(self, memo):
        raise AssertionError("the whole table was copied")

    client, table = dynamodb
    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)
    client.put_item(TableName=table, Item=_item("POST#4", likeCount={"N": "0"}))
    client.transact_write_items(**_like(table, "POST#4", "u1"))
    with pytest.raises(ClientError):
        client.transact_write_items(**_like(table, "POST#4", "u1"))
    assert _count(client, table, "POST#4") == 1


def test_items_no_longer_held_are_not_tracked(dynamodb):
    from moto.dynamodb.models.dynamo_type import Item

    client, table = dynamodb
    gc.collect()
    before = sum(1 for _ in Item.instances_tracked)
    for n in range(100):  # each put makes an Item; each query copies the partition's items
        client.put_item(TableName=table, Item=_item("TRACK", f"{n:04}"))
        client.query(
            TableName=table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "TRACK"}},
        )
    gc.collect()
    added = sum(1 for _ in Item.instances_tracked) - before
    # the 100 stored items (and their stream images), not the ~5,000 copies the queries made
    assert 100 <= added < 500


def test_same_token_and_request_succeeds_without_applying_twice(dynamodb):
    client, table = dynamodb
    client.put_item(TableName=table, Item=_item("POST#5", likeCount={"N": "0"}))
    request = _like(table, "POST#5", "u1", token="token-5")
    client.transact_write_items(**request)
    client.transact_write_items(**request)  # a retry after a timeout: success, not a conflict
    assert _count(client, table, "POST#5") == 1


def test_same_token_with_another_request_is_a_400_mismatch(dynamodb):
    client, table = dynamodb
    client.put_item(TableName=table, Item=_item("POST#6", likeCount={"N": "0"}))
    client.transact_write_items(**_like(table, "POST#6", "u1", token="token-6"))
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(**_like(table, "POST#6", "u2", token="token-6"))
    error = raised.value.response
    assert error["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert _count(client, table, "POST#6") == 1


def test_a_cancelled_request_retried_with_its_token_runs_again(dynamodb):
    client, table = dynamodb
    client.put_item(TableName=table, Item=_item("POST#7", "LIKE#u1"))  # the like exists
    client.put_item(TableName=table, Item=_item("POST#7", likeCount={"N": "0"}))
    request = _like(table, "POST#7", "u1", token="token-7")
    with pytest.raises(ClientError):
        client.transact_write_items(**request)
    client.delete_item(TableName=table, Key=_item("POST#7", "LIKE#u1"))
    client.transact_write_items(**request)  # nothing was applied under it: it runs now
    assert _count(client, table, "POST#7") == 1


def test_a_query_on_the_table_key_answers_as_before(dynamodb):
    # only the queried partition is looked at; the answer is moto's: order, pages, conditions
    client, table = dynamodb
    for partition in ("Q#1", "Q#2", "Q#3"):
        for n in range(12):
            client.put_item(TableName=table, Item=_item(partition, f"C#{n:02}", n={"N": str(n)}))
    query = {
        "TableName": table,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :c)",
        "ExpressionAttributeValues": {":pk": {"S": "Q#2"}, ":c": {"S": "C#"}},
        "ScanIndexForward": False,
        "Limit": 5,
    }
    seen = []
    while True:
        page = client.query(**query)
        seen += [item["SK"]["S"] for item in page["Items"]]
        assert all(item["PK"] == {"S": "Q#2"} for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert seen == [f"C#{n:02}" for n in reversed(range(12))]
    missing = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "Q#none"}},
    )
    assert missing["Items"] == []


def test_an_index_query_answers_as_before(dynamodb):
    # only the items with the queried index key are sorted; the answer is moto's
    client, table = dynamodb
    for n in range(30):
        owner = f"OWNER#{n % 3}"
        item = _item(f"IX#{n:02}", GSI1PK={"S": owner}, GSI1SK={"S": f"{n % 7}-{n:02}"})
        client.put_item(TableName=table, Item=item)
    client.put_item(TableName=table, Item=_item("IX#none"))  # not in the index
    query = {
        "TableName": table,
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :o AND GSI1SK > :from",
        "ExpressionAttributeValues": {":o": {"S": "OWNER#1"}, ":from": {"S": "2"}},
        "ScanIndexForward": False,
        "Limit": 3,
    }
    seen = []
    while True:
        page = client.query(**query)
        seen += [item["PK"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            break
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    expected = sorted(
        (f"{n % 7}-{n:02}", f"IX#{n:02}")
        for n in range(30)
        if n % 3 == 1 and f"{n % 7}-{n:02}" > "2"
    )
    assert seen == [pk for _, pk in reversed(expected)]
