"""The single-table layer against moto: conversion, pagination, transactions."""

from decimal import Decimal

import boto3
import pytest

from chalicelib.db import tx_put, tx_update
from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.keys import GSI1


def _seed(store, partition, count, **extra):
    for i in range(count):
        store.put({"PK": partition, "SK": f"ITEM#{i:04d}", "n": i, **extra})


def test_get_returns_plain_values_without_keys(store):
    # Given an item with a counter, a nested map and key attributes
    store.put(
        {
            "PK": "USER#1",
            "SK": "PROFILE",
            "GSI1PK": "x",
            "GSI1SK": "y",
            "followerCount": 7310,
            "profile": {"links": ["a"], "score": Decimal("1.5")},
        }
    )
    # When it is read back
    item = store.get("USER#1", "PROFILE")
    # Then counts are ints and no key attribute leaks
    assert item == {"followerCount": 7310, "profile": {"links": ["a"], "score": 1.5}}
    assert type(item["followerCount"]) is int


def test_get_absent_is_none(store):
    assert store.get("USER#nobody", "PROFILE") is None


def test_pages_cover_every_item_once_newest_first(store):
    _seed(store, "P#1", 45)
    seen, cursor, pages = [], None, 0
    while True:
        page = store.query_page("P#1", limit=20, cursor=cursor)
        seen += [i["n"] for i in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(range(44, -1, -1))
    assert pages == 3


def test_exactly_full_last_page_has_no_cursor(store):
    _seed(store, "P#2", 40)
    first = store.query_page("P#2", limit=20, newest_first=False)
    second = store.query_page("P#2", limit=20, newest_first=False, cursor=first.next_cursor)
    assert [i["n"] for i in second.items] == list(range(20, 40))
    assert second.next_cursor is None


def test_pages_on_an_index_with_a_prefix(store):
    for i in range(5):
        store.put({"PK": f"X#{i}", "SK": "A", "GSI1PK": "FOLLOWERS#u", "GSI1SK": f"F#{i}"})
    store.put({"PK": "X#9", "SK": "A", "GSI1PK": "FOLLOWERS#u", "GSI1SK": "G#9"})
    first = store.query_page("FOLLOWERS#u", index=GSI1, sk_prefix="F#", limit=3)
    rest = store.query_page(
        "FOLLOWERS#u", index=GSI1, sk_prefix="F#", limit=3, cursor=first.next_cursor
    )
    assert len(first.items) == 3 and len(rest.items) == 2 and rest.next_cursor is None


@pytest.mark.parametrize(("count", "keep"), [(30, 12), (12, 12), (5, 12), (0, 3)])
def test_trim_keeps_the_newest_items_only(store, count, keep):
    _seed(store, "P#T", count)
    _seed(store, "P#U", 4)  # another partition is untouched
    store.trim("P#T", keep)
    left = store.query_page("P#T", limit=100).items
    assert [i["n"] for i in left] == list(range(count - 1, -1, -1))[:keep]
    assert len(store.query_page("P#U", limit=100).items) == 4


def test_cursor_of_another_partition_is_refused(store):
    _seed(store, "P#3", 5)
    _seed(store, "P#4", 5)
    cursor = store.query_page("P#3", limit=2).next_cursor
    with pytest.raises(Invalid, match="cursor"):
        store.query_page("P#4", limit=2, cursor=cursor)


def test_limit_out_of_range_is_refused(store):
    with pytest.raises(Invalid, match="limit"):
        store.query_page("P#5", limit=101)


def test_conditional_put_raises_the_given_error(store):
    store.put({"PK": "HANDLE#ana", "SK": "HANDLE"}, condition="attribute_not_exists(PK)")
    with pytest.raises(NotFound):
        store.put(
            {"PK": "HANDLE#ana", "SK": "HANDLE"},
            condition="attribute_not_exists(PK)",
            on_fail=NotFound("x"),
        )


def test_transaction_is_all_or_nothing_and_maps_the_failed_condition(store):
    # Given a post with a like counter
    store.put({"PK": "POST#1", "SK": "POST", "likeCount": 0})
    like = [
        tx_put(
            {"PK": "POST#1", "SK": "LIKE#u"},
            "attribute_not_exists(PK)",
            on_fail=Conflict("already liked"),
        ),
        tx_update(
            {"PK": "POST#1", "SK": "POST"},
            "ADD likeCount :one",
            "attribute_exists(PK)",
            values={":one": 1},
            on_fail=NotFound("no such post"),
        ),
    ]
    # When the same like is written twice
    store.transact_write(like)
    with pytest.raises(Conflict, match="already liked"):
        store.transact_write(like)
    # Then the counter moved once
    assert store.get("POST#1", "POST")["likeCount"] == 1


def test_transaction_condition_on_another_item(store):
    with pytest.raises(NotFound, match="no such user"):
        store.transact_write(
            [
                tx_update(
                    {"PK": "USER#ghost", "SK": "PROFILE"},
                    "ADD followerCount :one",
                    "attribute_exists(PK)",
                    values={":one": 1},
                    on_fail=NotFound("no such user"),
                ),
                tx_put({"PK": "USER#me", "SK": "FOLLOWS#ghost"}),
            ]
        )
    assert store.get("USER#me", "FOLLOWS#ghost") is None
    assert store.get("USER#ghost", "PROFILE") is None


def test_batch_get_returns_found_items_by_key(store):
    _seed(store, "P#6", 3)
    found = store.batch_get([("P#6", "ITEM#0000"), ("P#6", "ITEM#0002"), ("P#6", "NOPE")])
    assert set(found) == {("P#6", "ITEM#0000"), ("P#6", "ITEM#0002")}
    assert found[("P#6", "ITEM#0002")]["n"] == 2


def test_table_matches_the_template():
    table = boto3.client("dynamodb").describe_table(TableName="echomate-test")["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2", "GSI3"}
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_one_client_request_token_covers_a_transaction_and_its_retries(store):
    # Given a client whose first TransactWriteItems is cancelled by a conflicting transaction
    from botocore.exceptions import ClientError

    from chalicelib.db import Store

    sent = []

    class ConflictingOnce:
        def transact_write_items(self, **params):
            sent.append(params)
            if len(sent) == 1:
                error = {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": [{"Code": "TransactionConflict"}],
                }
                raise ClientError(error, "TransactWriteItems")
            return store._client.transact_write_items(**params)

    retrying = Store(store._table, ConflictingOnce(), b"secret")
    # When a transaction is written, and then another one
    retrying.transact_write([tx_put({"PK": "TOKEN#1", "SK": "A"})])
    retrying.transact_write([tx_put({"PK": "TOKEN#2", "SK": "A"})])
    # Then the retry carried the first attempt's token, and the next call a new one
    tokens = [params["ClientRequestToken"] for params in sent]
    assert len(tokens) == 3
    assert tokens[0] == tokens[1] != tokens[2]
    assert store.get("TOKEN#1", "A") is not None
