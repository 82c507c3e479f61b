import pytest

from chalicelib import documents
from chalicelib.errors import Invalid, TooLarge
from chalicelib.users import search_terms


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [  # RFC 7396 appendix A, and the cases a profile meets
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7396(target, patch, result):
    assert documents.merge_patch(target, patch) == result


def test_plan_sets_nested_paths_only_under_existing_maps():
    current = {"profile": {"bio": "x", "location": {"city": "Oslo"}, "links": ["a"]}}
    patch = {
        "profile": {
            "location": {"city": "Rome", "zip": None},
            "links": ["b"],
            "new": {"deep": {"er": 1, "gone": None}},
            "bio": None,
        }
    }
    plan = documents.plan_update(current, patch, ())
    assert sorted(plan.sets) == sorted(
        [
            (("profile", "location", "city"), "Rome"),
            (("profile", "links"), ["b"]),  # arrays replace
            (("profile", "new"), {"deep": {"er": 1}}),  # no parent map: the whole object, no nulls
        ]
    )
    assert plan.removes == [("profile", "bio")]  # "zip" was absent: nothing to remove


def test_plan_of_a_no_op_patch_is_empty():
    current = {"profile": {"bio": "x"}}
    assert not documents.plan_update(current, {"profile": {"bio": "x", "gone": None}}, ())


def test_update_expression_never_inlines_user_keys():
    plan = documents.plan_update({"p": {}}, {"p": {"a.b #c": 1, "x": None}}, ())
    sets, removes, names, values = documents.update_expression(plan)
    assert sets == ["#p0.#p1 = :p0"]
    assert names == {"#p0": "p", "#p1": "a.b #c"}
    assert values == {":p0": 1}
    assert removes == []


@pytest.mark.parametrize(
    ("profile", "field"),
    [
        ({"website": "javascript:alert(1)"}, "profile.website"),
        ({"website": "ftp://example.com"}, "profile.website"),
        ({"website": "https://"}, "profile.website"),
        ({"links": ["https://ok.example", "nope"]}, "profile.links[1]"),
        ({"links": [{"title": "t", "url": "mailto:x"}]}, "profile.links[0].url"),
        ({"links": ["https://a.example"] * 11}, "profile.links"),
        ({"bio": "b" * 501}, "profile.bio"),
        ({"location": "Oslo"}, "profile.location"),
        ({"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}, "profile.a.b.c.d.e.f"),
        ({"k" * 65: 1}, "profile"),
        ({"s": "x" * 2001}, "profile.s"),
        ({"n": float("nan")}, "profile.n"),
    ],
)
def test_bad_documents_are_400_naming_the_field(profile, field):
    with pytest.raises(Invalid) as raised:
        documents.check_document(profile, {})
    assert raised.value.details[0]["field"] == field


def test_too_many_keys_is_refused():
    with pytest.raises(Invalid, match="at most 300 keys"):
        documents.check_document({f"k{i}": i for i in range(301)}, {})


def test_over_16_kb_is_a_413():
    big = {f"k{i}": "x" * 1000 for i in range(17)}
    with pytest.raises(TooLarge, match="16 KB"):
        documents.check_document({}, big)
    documents.check_document({f"k{i}": "x" * 1000 for i in range(15)}, {})  # under: fine


def test_good_document_passes():
    documents.check_document(
        {
            "bio": "hi",
            "website": "https://ana.example",
            "location": {"city": "Oslo"},
            "links": ["https://a.example", {"title": "blog", "url": "http://b.example/x"}],
        },
        {"theme": "dark", "notifications": {"email": False}},
    )


def test_nulls_only_in_patches():
    documents.check_patch({"bio": None}, "profile")
    with pytest.raises(Invalid):
        documents.check_document({"bio": None, "x": [None]}, {})


def test_search_terms_cover_handle_name_and_later_words():
    assert search_terms("Ana_B", "Ána María López Ruiz") == {
        "ana_b",
        "ana maria lopez ruiz",
        "maria lopez ruiz",
        "lopez ruiz",
    }
