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
from tests.support import items_mentioning


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


def _archive(user_id, job_id):
    import io
    import zipfile

    body = (
        boto3.client("s3")
        .get_object(Bucket="echomate-test-media", Key=f"exports/{user_id}/{job_id}.zip")["Body"]
        .read()
    )
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None  # every entry's CRC checks
    return archive


def test_export_writes_the_whole_archive(world):
    from chalicelib import posts, safety
    from chalicelib.models import MePatch, MuteIn, PostIn
    from tests.factories import ready_media

    photos = [ready_media(world.ana) for _ in range(2)]
    made = posts.create_post(world.ana, PostIn(caption="<b>sun</b>", media_ids=photos), None)
    users.update_me(world.ana, MePatch(profile={"bio": "hi"}), None)
    safety.block(world.ana, "carl")
    safety.mute(world.ana, "bob", MuteIn())
    job = jobs.request_export(world.ana)
    assert job.status == "pending" and job.url is None
    assert jobs.request_export(world.ana).job_id == job.job_id  # no second job meanwhile
    assert jobs.run_job(job.job_id, jobs.Budget(60)) is True
    ready = jobs.request_export(world.ana)
    assert ready.job_id == job.job_id and ready.status == "ready"
    assert ready.url.startswith("https://") and ready.expires_in == 3600
    assert "echomate-export.zip" in ready.url
    archive = _archive(world.ana, job.job_id)
    names = archive.namelist()
    assert names[:11] == [
        "profile.json",
        "posts.json",
        "comments.json",
        "likes.json",
        "following.json",
        "followers.json",
        "blocks.json",
        "mutes.json",
        "media.json",
        "index.html",
        f"photos/{made.post_id}/1-{photos[0]}.jpg",
    ]
    assert names[11:] == [f"photos/{made.post_id}/2-{photos[1]}.jpg"]
    profile = json.loads(archive.read("profile.json"))
    assert profile["profile"]["username"] == "ana"
    assert profile["profile"]["profile"] == {"bio": "hi"}
    assert {e["followeeId"] for e in json.loads(archive.read("following.json"))} == {world.bob}
    assert [b["blockedId"] for b in json.loads(archive.read("blocks.json"))] == [world.carl]
    assert [m["mutedId"] for m in json.loads(archive.read("mutes.json"))] == [world.bob]
    (post,) = json.loads(archive.read("posts.json"))
    assert post["photos"] == names[10:]
    assert archive.read(names[10])[:3] == b"\xff\xd8\xff"  # the large JPEG rendition
    page = archive.read("index.html").decode()
    assert "&lt;b&gt;sun&lt;/b&gt;" in page and f'src="{names[10]}"' in page
    left = boto3.client("s3").list_objects_v2(
        Bucket="echomate-test-media", Prefix=f"exports/{world.ana}/"
    )["Contents"]
    assert [o["Key"] for o in left] == [f"exports/{world.ana}/{job.job_id}.zip"]  # no work


def test_an_export_resumes_part_by_part_and_streams_the_photos(world, monkeypatch):
    """Parts of a few hundred KB (moto's minimum lowered to match), a budget that ends each
    run after a few entries: the job comes back run after run, never holds more than a part,
    and the archive is whole."""
    import moto.s3.models

    from chalicelib import posts
    from chalicelib.jobs import export
    from chalicelib.models import MePatch, PostIn
    from tests.factories import ready_media

    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 1)
    monkeypatch.setattr(export, "PART_SIZE", 1)  # every entry closes a part
    photos = [ready_media(world.ana) for _ in range(3)]
    posts.create_post(world.ana, PostIn(caption="three", media_ids=photos), None)
    users.update_me(world.ana, MePatch(avatar=ready_media(world.ana, purpose="avatar")), None)
    job = jobs.request_export(world.ana)
    runs = 0
    while not jobs.run_job(job.job_id, jobs.Budget(60, max_operations=15)):
        runs += 1
        assert runs < 50
    assert runs >= 2  # it did stop and resume
    stored = users.db.get_store().get(Job.key_of(job.job_id), Job)
    names = _archive(world.ana, job.job_id).namelist()
    assert stored.status == "ready" and stored.progress["part"] == len(names)  # a part each
    assert len(names) == 10 + 3 + 1 and names[-1].startswith("photos/avatar-")
    assert len(set(names)) == len(names)  # a part written again is not an entry twice


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
