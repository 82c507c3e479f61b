"""The single-table layer against moto: entities in and out, pagination, transactions."""

from decimal import Decimal

import boto3
import pytest

from chalicelib.db import tx_put, tx_update
from chalicelib.entities import Entity, Follow, ItemKey, Like, Post, Profile, decode
from chalicelib.errors import Conflict, Invalid, NotFound
from chalicelib.keys import GSI1, GSI1PK, GSI1SK


class Thing(Entity):
    """A stored thing of the tests' own (any key, optionally listed on GSI1)."""

    KIND = "test_thing"

    partition: str
    sort: str
    n: int = 0
    listed_under: str | None = None
    listed_as: str | None = None

    @property
    def key(self) -> ItemKey:
        return ItemKey(self.partition, self.sort)

    def index_keys(self) -> dict[str, str]:
        if not self.listed_under:
            return {}
        return {GSI1PK: self.listed_under, GSI1SK: self.listed_as or ""}


def _seed(store, partition, count):
    for i in range(count):
        store.put(Thing(partition=partition, sort=f"ITEM#{i:04d}", n=i))


def test_get_returns_the_entity_with_plain_values_and_no_keys(store):
    # Given a profile with a counter, a nested map and an index listing
    profile = Profile(
        user_id="1",
        username="ana",
        email="ana@example.com",
        name="Ana",
        follower_count=7310,
        profile={"links": ["a"], "score": 1.5},
        created_at="2026-01-01T00:00:00.000Z",
    )
    store.put(profile)
    # When it is read back, by its class or by what the item says it is
    typed = store.get(Profile.key_of("1"), Profile)
    untyped = store.get(Profile.key_of("1"))
    # Then it is the same entity, counts are ints and no key attribute leaks into it
    assert typed == profile == untyped
    assert type(typed.follower_count) is int
    assert "PK" not in typed.model_dump(by_alias=True)


def test_items_name_their_entity_and_legacy_items_are_known_by_their_key(store):
    table = boto3.resource("dynamodb").Table("echomate-test")
    # An item written now carries its type; one written before the attribute existed does not
    like = Like(
        like_id="L1", post_id="P1", user_id="u", author_id="a", created_at="2026-01-01T00:00:00Z"
    )
    store.put(like)
    assert table.get_item(Key={"PK": "POST#P1", "SK": "LIKE#u"})["Item"]["entity"] == "like"
    table.put_item(
        Item={
            "PK": "USER#u",
            "SK": "FOLLOWS#v",
            "GSI1PK": "FOLLOWERS#v",
            "GSI1SK": "E1#u",
            "followerId": "u",
            "followeeId": "v",
            "createdAt": "2026-01-01T00:00:00Z",
            "likeCount": Decimal(3),
        }
    )
    edge = store.get(Follow.key_of("u", "v"))
    assert isinstance(edge, Follow) and edge.edge_id == "E1"  # from its index key, in one place
    assert isinstance(decode({"PK": "POST#1", "SK": "POST", **_post_fields()}), Post)
    with pytest.raises(ValueError, match="unknown item kind"):
        decode({"PK": "NOPE#1", "SK": "X"})


def _post_fields():
    return {"postId": "1", "authorId": "a", "caption": "", "visibility": "public", "createdAt": "x"}


def test_get_absent_is_none(store):
    assert store.get(Profile.key_of("nobody"), Profile) is None


def test_pages_cover_every_item_once_newest_first(store):
    _seed(store, "P#1", 45)
    seen, cursor, pages = [], None, 0
    while True:
        page = store.query_page("P#1", limit=20, cursor=cursor, model=Thing)
        seen += [i.n for i in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(range(44, -1, -1))
    assert pages == 3


def test_exactly_full_last_page_has_no_cursor(store):
    _seed(store, "P#2", 40)
    first = store.query_page("P#2", limit=20, newest_first=False, model=Thing)
    second = store.query_page(
        "P#2", limit=20, newest_first=False, cursor=first.next_cursor, model=Thing
    )
    assert [i.n for i in second.items] == list(range(20, 40))
    assert second.next_cursor is None


def test_pages_on_an_index_with_a_prefix(store):
    for i in range(5):
        store.put(
            Thing(partition=f"X#{i}", sort="A", listed_under="FOLLOWERS#u", listed_as=f"F#{i}")
        )
    store.put(Thing(partition="X#9", sort="A", listed_under="FOLLOWERS#u", listed_as="G#9"))
    first = store.query_page("FOLLOWERS#u", index=GSI1, sk_prefix="F#", limit=3)
    rest = store.query_page(
        "FOLLOWERS#u", index=GSI1, sk_prefix="F#", limit=3, cursor=first.next_cursor
    )
    assert len(first.items) == 3 and len(rest.items) == 2 and rest.next_cursor is None
    assert all(isinstance(i, Thing) for i in first.items + rest.items)


@pytest.mark.parametrize(("count", "keep"), [(30, 12), (12, 12), (5, 12), (0, 3)])
def test_trim_keeps_the_newest_items_only(store, count, keep):
    _seed(store, "P#T", count)
    _seed(store, "P#U", 4)  # another partition is untouched
    store.trim("P#T", keep)
    left = store.query_page("P#T", limit=100, model=Thing).items
    assert [i.n for i in left] == list(range(count - 1, -1, -1))[:keep]
    assert len(store.query_page("P#U", limit=100).items) == 4


def test_query_keys_lists_only_keys_oldest_first(store):
    _seed(store, "P#K", 30)
    found = store.query_keys("P#K", limit=25)
    assert found[:2] == [ItemKey("P#K", "ITEM#0000"), ItemKey("P#K", "ITEM#0001")]
    assert len(found) == 25


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
    thing = Thing(partition="HANDLE#ana", sort="HANDLE")
    store.put(thing, condition="attribute_not_exists(PK)")
    with pytest.raises(NotFound):
        store.put(thing, condition="attribute_not_exists(PK)", on_fail=NotFound("x"))


def test_transaction_is_all_or_nothing_and_maps_the_failed_condition(store):
    # Given a post with a like counter
    store.put(Thing(partition="POST#1", sort="POST", n=0))
    like = [
        tx_put(
            Thing(partition="POST#1", sort="LIKE#u"),
            "attribute_not_exists(PK)",
            on_fail=Conflict("already liked"),
        ),
        tx_update(
            ("POST#1", "POST"),
            "ADD n :one",
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
    assert store.get(("POST#1", "POST"), Thing).n == 1


def test_transaction_condition_on_another_item(store):
    with pytest.raises(NotFound, match="no such user"):
        store.transact_write(
            [
                tx_update(
                    ("USER#ghost", "PROFILE"),
                    "ADD followerCount :one",
                    "attribute_exists(PK)",
                    values={":one": 1},
                    on_fail=NotFound("no such user"),
                ),
                tx_put(Thing(partition="USER#me", sort="FOLLOWS#ghost")),
            ]
        )
    assert store.get(("USER#me", "FOLLOWS#ghost")) is None
    assert store.get(("USER#ghost", "PROFILE")) is None


def test_batch_get_returns_found_items_by_key(store):
    _seed(store, "P#6", 3)
    found = store.batch_get([("P#6", "ITEM#0000"), ("P#6", "ITEM#0002"), ("P#6", "NOPE")], Thing)
    assert set(found) == {("P#6", "ITEM#0000"), ("P#6", "ITEM#0002")}
    assert found[("P#6", "ITEM#0002")].n == 2


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
        def __getattr__(self, name):  # every other call goes to the real client
            return getattr(store._client, name)

        def transact_write_items(self, **params):
            sent.append(params)
            if len(sent) == 1:
                error = {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": [{"Code": "TransactionConflict"}],
                }
                raise ClientError(error, "TransactWriteItems")
            return store._client.transact_write_items(**params)

    retrying = Store(ConflictingOnce(), store.table_name, b"secret")
    # When a transaction is written, and then another one
    retrying.transact_write([tx_put(Thing(partition="TOKEN#1", sort="A"))])
    retrying.transact_write([tx_put(Thing(partition="TOKEN#2", sort="A"))])
    # Then the retry carried the first attempt's token, and the next call a new one
    tokens = [params["ClientRequestToken"] for params in sent]
    assert len(tokens) == 3
    assert tokens[0] == tokens[1] != tokens[2]
    assert store.get(("TOKEN#1", "A"), Thing) is not None
