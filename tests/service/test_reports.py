"""Reports and the queue, counted: filing is a read of the open case and one transaction, a
queue page is two requests, and a reporter's reports go with their account."""

from types import SimpleNamespace

import boto3
import pytest

from chalicelib import interactions, jobs, posts, reports
from chalicelib.entities import Report, ReportCase
from chalicelib.errors import Conflict
from chalicelib.identity import Identity
from chalicelib.models import CategoryReportIn, CommentIn, PostIn, ReportIn, ResolveIn
from tests.factories import make_user


def who(user_id, *groups):
    return Identity(
        user_id=user_id, username=None, email=None, groups=frozenset(groups), expires_at=0
    )


@pytest.fixture
def people(store, stream):
    ana, bob, eve = make_user("ana"), make_user("bob"), make_user("eve")
    made = posts.create_post(ana, PostIn(caption="hi"), None)
    comment = interactions.add_comment(bob, made.post_id, CommentIn(text="yo"))
    return SimpleNamespace(ana=ana, bob=bob, eve=eve, post=made.post_id, comment=comment)


def test_filing_reads_the_open_case_then_writes_once(people, dynamodb_calls):
    dynamodb_calls.clear()
    reports.report_user(people.eve, "bob", CategoryReportIn(category="spam"))
    # the handle, the profile, the blocks either way; the open case; the report with its case
    assert dynamodb_calls == [
        "GetItem",
        "GetItem",
        "BatchGetItem",
        "GetItem",
        "TransactWriteItems",
    ]
    dynamodb_calls.clear()
    reports.report_user(people.ana, "bob", CategoryReportIn(category="hate"))
    assert dynamodb_calls[-2:] == ["GetItem", "TransactWriteItems"]  # joins the case


def test_a_queue_page_is_two_requests_whatever_its_size(people, dynamodb_calls):
    reports.report_user(people.eve, "bob", CategoryReportIn(category="spam"))
    reports.report_post(people.eve, people.post, ReportIn(category="nudity"))
    reports.report_comment(
        people.eve, people.post, people.comment.comment_id, CategoryReportIn(category="hate")
    )
    dynamodb_calls.clear()
    rows = reports.queue("open", 20, None).items
    assert dynamodb_calls == ["Query", "BatchGetItem"]
    assert [r.target.type for r in rows] == ["comment", "post", "user"]


def test_racing_first_reports_make_one_case(people, store):
    """Two first reports that both saw no open case: the second's transaction fails on the
    case the first opened, reads it again and joins it."""
    reports.report_user(people.eve, "bob", CategoryReportIn(category="spam"))
    real_get = store.get
    calls = {"n": 0}

    def stale_get(key, model=None):
        calls["n"] += 1
        if model is ReportCase and calls["n"] == 1:
            return None  # as if read before eve's report opened the case
        return real_get(key, model)

    store.get = stale_get
    try:
        reports.report_user(people.ana, "bob", CategoryReportIn(category="hate"))
    finally:
        store.get = real_get
    (case,) = reports.queue("open", 20, None).items
    assert (case.report_count, case.category) == (2, "hate")


def test_resolving_twice_is_a_conflict_and_logs_once(people, store):
    reports.report_post(people.eve, people.post, ReportIn(reason="spam"))
    (row,) = reports.queue("open", 20, None).items
    moderator = who(people.bob, "moderators")
    reports.resolve(moderator, row.report_id, ResolveIn(action="dismiss", note="fine"))
    with pytest.raises(Conflict):
        reports.resolve(moderator, row.report_id, ResolveIn(action="dismiss"))
    items = boto3.resource("dynamodb").Table("echomate-test").scan()["Items"]
    log = [i for i in items if i["PK"].startswith("MODLOG#")]
    assert [(e["action"], e["details"]["resolution"]) for e in log] == [
        ("resolve_report", "dismiss")
    ]


def test_account_deletion_removes_the_reports_it_filed(people, stream, cognito, store):
    reports.report_user(people.eve, "bob", CategoryReportIn(category="spam"))
    reports.report_post(people.eve, people.post, ReportIn(category="spam"))
    jobs.start_account_deletion(people.eve)
    stream.pump()
    items = boto3.resource("dynamodb").Table("echomate-test").scan()["Items"]
    assert [i for i in items if i.get("entity") == Report.KIND] == []
