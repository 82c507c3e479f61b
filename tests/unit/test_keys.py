import pytest

from chalicelib import keys


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (keys.user_pk("01J"), "USER#01J"),
        (keys.handle_pk("Ana"), "HANDLE#ana"),
        (keys.handle_pk("ANA"), keys.handle_pk("ana")),
        (keys.search_pk("Élodie"), "SEARCH#el"),
        (keys.search_item_sk("Élodie"), "SEARCH#elodie"),
        (keys.edge_sk("01J", "u2"), "01J#u2"),
        (keys.job_pk("j1"), "JOB#j1"),
        (keys.user_jobs_pk("u1"), "JOBS#u1"),
        (keys.rate_window_sk(60), "WINDOW#60"),
        (keys.search_sk("Élodie", "u1"), "elodie#u1"),
        (keys.follow_sk("u2"), "FOLLOWS#u2"),
        (keys.followers_pk("u2"), "FOLLOWERS#u2"),
        (keys.following_pk("u1"), "FOLLOWING#u1"),
        (keys.media_pk("m1"), "MEDIA#m1"),
        (keys.post_pk("p1"), "POST#p1"),
        (keys.user_posts_pk("u1"), "POSTS#u1"),
        (keys.like_sk("u1"), "LIKE#u1"),
        (keys.comment_sk("c1"), "COMMENT#c1"),
        (keys.timeline_pk("u1"), "FEED#u1"),
        (keys.hashtag_pk("SunSet"), "TAG#sunset"),
        (keys.explore_pk("2026112409"), "EXPLORE#2026112409"),
        (keys.activity_pk("u1"), "ACTIVITY#u1"),
        (keys.filed_report_sk("c1", "u1"), "REPORT#c1#u1"),
        (keys.reported_pk("post", "p1"), "REPORTED#post#p1"),
        (keys.rate_limit_pk("login", "1.2.3.4"), "RATE#login#1.2.3.4"),
        (keys.idempotency_pk("u1", "create_post", "k1"), "IDEMPOTENCY#u1#create_post#k1"),
    ],
)
def test_keys_format(key, expected):
    assert key == expected


@pytest.mark.parametrize("bad", ["", "a#b", "#"])
def test_keys_refuse_empty_or_separator(bad):
    with pytest.raises(ValueError):
        keys.user_pk(bad)


def test_fold_ignores_case_and_accents():
    assert keys.fold("ÉlodieÇA") == "elodieca"
    assert keys.fold("straße") == "strasse"


def test_index_keys_name_every_key_attribute():
    assert keys.KEY_ATTRIBUTES == {
        "PK",
        "SK",
        "GSI1PK",
        "GSI1SK",
        "GSI2PK",
        "GSI2SK",
        "GSI3PK",
        "GSI3SK",
    }


@pytest.mark.parametrize(
    ("pk", "sk", "kind"),
    [
        (keys.user_pk("u1"), keys.PROFILE_SK, "profile"),
        (keys.user_pk("u1"), keys.follow_sk("u2"), "follow"),
        (keys.user_pk("u1"), keys.search_item_sk("ana"), "search"),
        (keys.user_pk("u1"), keys.follow_request_sk("u2"), "follow_request"),
        (keys.handle_pk("Ana"), keys.HANDLE_SK, "handle"),
        (keys.post_pk("p1"), keys.POST_SK, "post"),
        (keys.post_pk("p1"), keys.like_sk("u1"), "like"),
        (keys.post_pk("p1"), keys.comment_sk("c1"), "comment"),
        (keys.reported_pk("post", "p1"), keys.filed_report_sk("c1", "u1"), "report"),
        (keys.reported_pk("user", "u1"), keys.OPEN_CASE_SK, "report_case"),
        (keys.reported_pk("user", "u1"), keys.resolved_case_sk("c1"), "report_case"),
        (keys.media_pk("m1"), keys.MEDIA_SK, "media"),
        (keys.job_pk("j1"), keys.JOB_SK, "job"),
        (keys.timeline_pk("u1"), "p1", "timeline"),
        (keys.hashtag_pk("sun"), "p1", "hashtag"),
        (keys.activity_pk("u1"), "a1", "notification"),
        (keys.moderation_log_pk("202612"), "x1", "modlog"),
        (keys.rate_limit_pk("login_ip", "d1"), keys.rate_window_sk(60), "rate"),
        (keys.idempotency_pk("u1", "create_post", "k"), keys.IDEMPOTENCY_SK, "idempotency"),
        (keys.post_pk("p1"), "SOMETHING", None),
        ("UNKNOWN#1", "X", None),
    ],
)
def test_kind_of_names_the_item_a_key_holds(pk, sk, kind):
    assert keys.kind_of(pk, sk) == kind


def test_media_listing_keys_and_edge_ids_round_trip():
    assert keys.media_listing_sk("pending", "m1").startswith(keys.media_listing_prefix("pending"))
    assert not keys.media_listing_sk("ready", "m1").startswith(keys.media_listing_prefix("pending"))
    assert keys.edge_id_of(keys.edge_sk("E1", "u2")) == "E1"


def test_index_names_cover_exactly_the_placeholders_an_expression_uses():
    assert keys.index_names("SET #i3pk = :big, #i3sk = :id", "attribute_exists(PK)") == {
        "#i3pk": "GSI3PK",
        "#i3sk": "GSI3SK",
    }
    assert keys.index_names("REMOVE #i1pk", None) == {"#i1pk": "GSI1PK"}
    assert keys.index_names("SET #status = :s") == {}
