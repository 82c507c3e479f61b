"""Account deletion and data export, run as the stream handler runs them (moto in-process)."""

import json
from types import SimpleNamespace

import boto3
import pytest

from chalicelib import follows, jobs, keys, users
from chalicelib.entities import Job
from chalicelib.errors import NotFound
from tests import support
from tests.factories import make_user

KEY_ATTRIBUTES = ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK")


def items_mentioning(user_id, handle):
    table = boto3.resource("dynamodb").Table("echomate-test")
    return [
        i
        for i in table.scan()["Items"]
        if any(
            user_id in str(i.get(a, "")) or f"#{handle}" in str(i.get(a, ""))
            for a in KEY_ATTRIBUTES
        )
    ]


@pytest.fixture
def world(store, cognito):
    """ana follows bob and carl; bob and carl follow ana; ana has a Cognito account."""
    support.sign_up(
        cognito["idp"], cognito["client_id"], "ana@example.com", pool_id=cognito["pool_id"]
    )
    ana = make_user("ana", "Ana Lopez")
    bob, carl = make_user("bob"), make_user("carl")
    follows.follow(ana, "bob")
    follows.follow(ana, "carl")
    follows.follow(bob, "ana")
    follows.follow(carl, "ana")
    follows.follow(bob, "carl")
    return SimpleNamespace(ana=ana, bob=bob, carl=carl, cognito=cognito)


def _pending_job(user_id):
    page = users.db.get_store().query_page(keys.user_jobs_pk(user_id), index=keys.GSI2, limit=5)
    return page.items[0].job_id


def test_deleting_an_account_leaves_nothing_and_corrects_counters(world):
    # When ana deletes her account
    out = jobs.start_account_deletion(world.ana)
    assert out.status == "deleting"
    # Then she cannot sign in at once, and she is gone from every view
    assert world.cognito["idp"].list_users(UserPoolId=world.cognito["pool_id"])["Users"] == []
    with pytest.raises(NotFound):
        users.public_profile(world.bob, "ana")
    with pytest.raises(NotFound):
        follows.follow(world.bob, "ana")
    # And once the job has run, nothing keyed by her remains
    assert jobs.run_job(_pending_job(world.ana), jobs.Budget(60)) is True
    assert items_mentioning(world.ana, "ana") == []
    bob, carl = users.get_profile(world.bob), users.get_profile(world.carl)
    assert (bob.follower_count, bob.following_count) == (0, 1)
    assert (carl.follower_count, carl.following_count) == (1, 0)
    users.reserve_handle("ana")  # the handle is free again


def test_deletion_killed_halfway_finishes_on_the_next_run(world):
    jobs.start_account_deletion(world.ana)
    job_id = _pending_job(world.ana)
    assert jobs.run_job(job_id, jobs.Budget(60, max_operations=4)) is False
    assert items_mentioning(world.ana, "ana") != []  # partway
    job = users.db.get_store().get(Job.key_of(job_id), Job)
    assert job.nudges == 1 and job.status == "pending"  # touched: the stream re-runs it
    assert jobs.run_job(job_id, jobs.Budget(60, max_operations=6)) is False
    assert jobs.run_job(job_id, jobs.Budget(60)) is True
    assert items_mentioning(world.ana, "ana") == []
    assert users.get_profile(world.bob).follower_count == 0
    assert users.get_profile(world.carl).follower_count == 1
    assert jobs.run_job(job_id, jobs.Budget(60)) is True  # a redelivered record: nothing to do


def test_delete_twice_is_one_deletion(world):
    jobs.start_account_deletion(world.ana)
    jobs.start_account_deletion(world.ana)
    page = users.db.get_store().query_page(keys.user_jobs_pk(world.ana), index=keys.GSI2, limit=5)
    assert len(page.items) == 1


def test_stream_records_run_pending_jobs(world):
    from chalicelib import events

    jobs.start_account_deletion(world.ana)
    job_id = _pending_job(world.ana)
    from boto3.dynamodb.types import TypeSerializer

    stored = (
        boto3.resource("dynamodb")
        .Table("echomate-test")
        .get_item(Key={"PK": keys.job_pk(job_id), "SK": "JOB"})["Item"]
    )  # the job's image as the stream carries it
    image = {k: TypeSerializer().serialize(v) for k, v in stored.items()}
    record = SimpleNamespace(event_name="INSERT", new_image=image, old_image=None)
    other = SimpleNamespace(event_name="MODIFY", new_image={"PK": {"S": "USER#x"}}, old_image=None)
    gone = SimpleNamespace(event_name="REMOVE", new_image=None, old_image=image)
    events.dispatch([other, record, gone], seconds=60)
    assert items_mentioning(world.ana, "ana") == []


def test_stale_jobs_are_swept(world, monkeypatch):
    jobs.start_account_deletion(world.ana)
    job_id = _pending_job(world.ana)
    assert jobs.sweep_stale_jobs() == 0  # fresh: its run may still be going
    monkeypatch.setattr(jobs, "_STALE_SECONDS", -60)
    assert jobs.sweep_stale_jobs() == 1
    assert users.db.get_store().get(Job.key_of(job_id), Job).nudges == 1


def test_export_writes_the_whole_archive(world):
    job = jobs.request_export(world.ana)
    assert job.status == "pending" and job.url is None
    assert jobs.request_export(world.ana).job_id == job.job_id  # no second job meanwhile
    assert jobs.run_job(job.job_id, jobs.Budget(60)) is True
    ready = jobs.request_export(world.ana)
    assert ready.job_id == job.job_id and ready.status == "ready"
    assert ready.url.startswith("https://") and ready.expires_in == 3600
    body = boto3.client("s3").get_object(
        Bucket="echomate-test-media", Key=f"exports/{world.ana}/{job.job_id}.json"
    )["Body"]
    archive = json.loads(body.read())
    assert archive["profile"]["username"] == "ana"
    assert {e["followeeId"] for e in archive["following"]} == {world.bob, world.carl}
    assert {e["followerId"] for e in archive["followers"]} == {world.bob, world.carl}


def test_deletion_removes_the_users_media_and_objects(world):
    from chalicelib import media
    from tests.factories import BUCKET, jpeg, objects, upload

    _, key = upload(world.ana, jpeg())
    media.process_upload(BUCKET, key)
    upload(world.ana, jpeg())  # and one never finished
    _, bobs = upload(world.bob, jpeg())
    jobs.start_account_deletion(world.ana)
    assert jobs.run_job(_pending_job(world.ana), jobs.Budget(60)) is True
    assert items_mentioning(world.ana, "ana") == []
    table = boto3.resource("dynamodb").Table("echomate-test")
    assert not [i for i in table.scan()["Items"] if i.get("ownerId") == world.ana]
    assert objects() == [bobs]
