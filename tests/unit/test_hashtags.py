"""Hashtags normalised once (NFKC, then case folding) for captions and ?tag= alike."""

import pytest

from chalicelib import keys, posts
from chalicelib.errors import Invalid


@pytest.mark.parametrize(
    ("caption", "tags"),
    [
        ("#İstanbul", ["i\u0307stanbul"]),
        ("#Straße und #STRASSE", ["strasse"]),
        ("#ＡＢＣ", ["abc"]),  # noqa: RUF001 - full-width letters on purpose
        ("#cafe\u0301 #café", ["café"]),  # decomposed and composed: one tag
        ("#a-b", ["a"]),  # a tag ends where letters, digits and _ end
        ("#123 #x_1", ["x_1"]),  # digits alone are no tag
        ("#東京 #москва", ["東京", "москва"]),
        ("mail@host#nope a#b &#39;", []),
    ],
)
def test_captions_yield_normal_tags(caption, tags):
    assert posts.hashtags(caption) == tags


@pytest.mark.parametrize("tag", ["İstanbul", "i\u0307stanbul", "%C4%B0stanbul", "#ISTANBUL"])
def test_every_spelling_of_a_tag_finds_the_same_partition(tag):
    assert keys.hashtag_pk(posts.valid_tag(tag)) == keys.hashtag_pk("istanbul")


@pytest.mark.parametrize("tag", ["a-b", "", "#", "x" * 101, "a b", "\u0307"])
def test_a_tag_outside_the_rule_is_a_400(tag):
    with pytest.raises(Invalid):
        posts.valid_tag(tag)
