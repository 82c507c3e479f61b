"""Reports on posts, comments and users, and the moderation queue that resolves them.

Reports are grouped by target into a case: the first report on a target opens one (its id is
the case's id), later ones join it (``reportCount``, the latest reporter and reason shown).
Each reporter files at most one report per case: a repeat is taken (202) and adds nothing.
Moderators list the open or resolved cases, newest report first, and resolve a case by the id
of any of its reports: ``dismiss``, ``remove`` (the post or the comment goes, as a moderator's
delete does) or ``disable`` (admins: the account behind the target). Resolving closes every
report of the case at once; the next report on the target opens a new case. Every resolution
is in the moderation log; reporters are not told who acted.
"""

from __future__ import annotations

import contextlib

from chalicelib import access, clock, db, interactions, keys, moderation, posts, relations, users
from chalicelib.entities import Profile, Report, ReportCase, ReportTarget
from chalicelib.errors import Conflict, Forbidden, Invalid, NotFound
from chalicelib.identity import ADMINS, Identity
from chalicelib.ids import new_id
from chalicelib.models import (
    CategoryReportIn,
    ReportCategory,
    ReportIn,
    ReportOut,
    ReportTargetOut,
    ResolveIn,
    UserSummary,
)

_ATTEMPTS = 3
REPORT_NOT_FOUND = "report not found"


# Filing ----------------------------------------------------------------------------------------
def report_post(caller_id: str, post_id: str, body: ReportIn) -> None:
    """Report a post the caller can see (not their own)."""
    if body.reason is None and body.category is None:
        raise Invalid(
            "category: required (or the v1 reason)", [{"field": "category", "reason": "required"}]
        )
    post = access.visible_post(caller_id, post_id)
    if post.author_id == caller_id:
        raise Invalid("postId: you cannot report your own post", [{"reason": "self"}])
    _file(
        caller_id,
        "post",
        post.post_id,
        post_id=post.post_id,
        owner_id=post.author_id,
        category=body.category or "other",
        details=body.details,
        reason=body.reason,
    )


def report_comment(caller_id: str, post_id: str, comment_id: str, body: CategoryReportIn) -> None:
    """Report a comment on a post the caller can see (not their own)."""
    post = access.visible_post(caller_id, post_id)
    comment = interactions.find_comment(post.post_id, comment_id)
    if comment is None or comment.author_id in relations.viewer().blocked_by:
        raise NotFound("comment not found")
    if comment.author_id == caller_id:
        raise Invalid("commentId: you cannot report your own comment", [{"reason": "self"}])
    _file(
        caller_id,
        "comment",
        comment.comment_id,
        post_id=post.post_id,
        owner_id=comment.author_id,
        category=body.category,
        details=body.details,
    )


def report_user(caller_id: str, handle: str, body: CategoryReportIn) -> None:
    """Report an account (one the caller blocks too; not one that blocks the caller: 404)."""
    target = users.profile_by_handle(handle)
    if target.user_id == caller_id:
        raise Invalid(
            "username: you cannot report yourself", [{"field": "username", "reason": "self"}]
        )
    if target.user_id in relations.read_between(caller_id, target.user_id).blocked_by:
        raise NotFound(users.USER_NOT_FOUND)
    _file(
        caller_id,
        "user",
        target.user_id,
        owner_id=target.user_id,
        category=body.category,
        details=body.details,
    )


def _file(
    caller_id: str,
    target_type: ReportTarget,
    target_id: str,
    *,
    owner_id: str,
    category: ReportCategory,
    details: str | None,
    post_id: str | None = None,
    reason: str | None = None,
) -> None:
    """The report and its case (opened, or joined) in one transaction: a GetItem of the open
    case, then one TransactWriteItems."""
    store = db.get_store()
    text = reason or details or category
    already = Conflict("reported already")
    changed = Conflict("the case changed meanwhile")
    for _ in range(_ATTEMPTS):
        case = store.get(ReportCase.open_key(target_type, target_id), ReportCase)
        report_id, now = new_id(), clock.now()
        case_id = case.case_id if case is not None else report_id
        report = Report(
            report_id=report_id,
            case_id=case_id,
            target_type=target_type,
            target_id=target_id,
            reporter_id=caller_id,
            category=category,
            reason=text,
            details=details,
            created_at=now,
        )
        ops = [db.tx_put(report, "attribute_not_exists(PK)", on_fail=already)]
        if case is None:
            opened = ReportCase(
                case_id=case_id,
                target_type=target_type,
                target_id=target_id,
                post_id=post_id,
                owner_id=owner_id,
                latest_report_id=report_id,
                latest_reporter_id=caller_id,
                latest_reason=text,
                latest_category=category,
                latest_at=now,
                created_at=now,
            )
            ops.append(db.tx_put(opened, "attribute_not_exists(PK)", on_fail=changed))
        else:
            ops.append(
                db.tx_update(
                    case.key,
                    "SET latestReportId = :id, latestReporterId = :by, latestReason = :reason, "
                    "latestCategory = :category, latestAt = :at, #sk = :sk "
                    "ADD reportCount :one",
                    "caseId = :case",
                    values={
                        ":id": report_id,
                        ":by": caller_id,
                        ":reason": text,
                        ":category": category,
                        ":at": now,
                        ":sk": f"{now}#{case_id}",
                        ":one": 1,
                        ":case": case_id,
                    },
                    names={"#sk": keys.GSI1SK},
                    on_fail=changed,
                )
            )
        try:
            store.transact_unless(ops, unless=already)  # a repeat in this case adds nothing
        except Conflict as exc:
            if exc is not changed:
                raise
            continue  # opened or resolved meanwhile: read the case again
        return
    raise Conflict("reports on this are changing; retry")


# The queue -------------------------------------------------------------------------------------
def queue(status: str, limit: int, cursor: str | None) -> db.Page[ReportOut]:
    """Open or resolved cases, newest first (open: by latest report; resolved: by resolution),
    with the latest reporter and the target's owner: one Query, one BatchGetItem. Reporters and
    owners are shown whatever their standing (a disabled account too), and null once gone."""
    page = db.get_store().query_page(
        keys.report_queue_pk(status), index=keys.GSI1, limit=limit, cursor=cursor, model=ReportCase
    )
    people = _people([c.latest_reporter_id for c in page.items] + [c.owner_id for c in page.items])
    return db.Page([_row(c, people) for c in page.items], page.next_cursor)


def _people(user_ids: list[str]) -> dict[str, UserSummary]:
    wanted = [Profile.key_of(u) for u in dict.fromkeys(user_ids)]
    found = db.get_store().batch_get(wanted, Profile) if wanted else {}
    return {p.user_id: users.summary_of(p) for p in found.values()}


def _row(case: ReportCase, people: dict[str, UserSummary]) -> ReportOut:
    return ReportOut(
        report_id=case.case_id,
        post_id=case.post_id,
        reporter=people.get(case.latest_reporter_id),
        reason=case.latest_reason,
        created_at=case.created_at,
        target=ReportTargetOut(
            type=case.target_type,
            id=case.target_id,
            post_id=case.post_id,
            owner=people.get(case.owner_id),
        ),
        category=case.latest_category,
        report_count=case.report_count,
        latest_at=case.latest_at,
        status=case.status,
        action=case.action,
        note=case.note,
        resolved_at=case.resolved_at,
    )


def _report(report_id: str) -> Report:
    """The report with this id (one Query of its index); Conflict when only its resolved case
    is left (the reports went with their post), NotFound when there is neither."""
    if not report_id or "#" in report_id or len(report_id) > 64:
        raise NotFound(REPORT_NOT_FOUND)
    page = db.get_store().query_page(keys.report_id_pk(report_id), index=keys.GSI3, limit=5)
    for item in page.items:
        if isinstance(item, Report):
            return item
    if any(isinstance(item, ReportCase) for item in page.items):
        raise Conflict("this report is resolved already", [{"reason": "resolved"}])
    raise NotFound(REPORT_NOT_FOUND)


def resolve(caller: Identity, report_id: str, body: ResolveIn) -> ReportOut:
    """Close the case of ``report_id`` (every report in it) with ``body.action``: the action
    first (idempotent: a post or comment gone already counts as removed), then the case moved
    from open to resolved in one transaction, then the moderation log. A resolved case is a
    409; ``disable`` is for admins (403 for moderators); a user cannot be ``remove``d (400)."""
    if body.action == "disable" and ADMINS not in caller.groups:
        raise Forbidden("action: disable is for admins", [{"field": "action", "reason": "admins"}])
    report = _report(report_id)
    store = db.get_store()
    case = store.get(ReportCase.open_key(report.target_type, report.target_id), ReportCase)
    if case is None or case.case_id != report.case_id:
        raise Conflict("this report is resolved already", [{"reason": "resolved"}])
    if body.action == "remove" and case.target_type == "user":
        raise Invalid(
            "action: an account cannot be removed; disable it",
            [{"field": "action", "reason": "user"}],
        )
    if body.action == "remove":
        _remove(caller, case)
    elif body.action == "disable":
        owner = users.find_profile(case.owner_id)
        if owner is None or owner.deleted_at:
            raise NotFound(users.USER_NOT_FOUND)
        if not owner.disabled:
            moderation.disable_profile(caller, owner)
    now = clock.now()
    resolved = case.model_copy(
        update={
            "status": "resolved",
            "action": body.action,
            "note": body.note,
            "resolved_by": caller.user_id,
            "resolved_at": now,
        }
    )
    store.transact_write(
        [
            db.tx_delete(
                case.key,
                "caseId = :case",
                values={":case": case.case_id},
                on_fail=Conflict("this report is resolved already", [{"reason": "resolved"}]),
            ),
            db.tx_put(resolved),
        ]
    )
    moderation.record(
        caller.user_id,
        "resolve_report",
        f"{case.target_type}:{case.target_id}",
        case=case.case_id,
        resolution=body.action,
        note=body.note,
        reports=case.report_count,
    )
    return _row(resolved, _people([case.latest_reporter_id, case.owner_id]))


def _remove(caller: Identity, case: ReportCase) -> None:
    """The reported post or comment goes, as a moderator's delete (gone already: done)."""
    with contextlib.suppress(NotFound):
        if case.target_type == "post":
            posts.delete_post(caller, case.target_id)
        else:
            interactions.delete_comment(caller, case.post_id or "", case.target_id)
