"""The catalog search's tokenizer: what an asset is indexed under and what a query looks for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcmedia.core.search_terms import MAX_TERM, index_terms, query_terms


def test_a_chinese_title_gives_its_characters_and_bigrams() -> None:
    assert index_terms("党建引领") == {"党", "建", "引", "领", "党建", "建引", "引领"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Python入门", {"python", "入", "门", "入门"}, id="latin-then-chinese"),
        pytest.param("ＰＹＴＨＯＮ", {"python"}, id="full-width-nfkc"),
        pytest.param(
            "第1课：党的建设",
            {"第", "1", "课", "党", "的", "建", "设", "党的", "的建", "建设"},
            id="digit-splits",
        ),
        pytest.param("ALG-02.mp4", {"alg", "02", "mp4"}, id="file-name"),
        pytest.param("Straße", {"strasse"}, id="casefold"),
        pytest.param("«…» ！", set(), id="punctuation-only"),
        pytest.param("", set(), id="empty"),
    ],
)
def test_index_terms(text: str, expected: set[str]) -> None:
    assert index_terms(text) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("党建", {"党建"}, id="two-characters"),
        pytest.param("党", {"党"}, id="one-character"),
        pytest.param("长征精神", {"长征", "征精", "精神"}, id="four-characters"),
        pytest.param("PYTHON 基础", {"python", "基础"}, id="latin-and-chinese"),
        pytest.param("100%", {"100"}, id="percent-separates"),
        pytest.param("?!  ", set(), id="punctuation-only"),
    ],
)
def test_query_terms(query: str, expected: set[str]) -> None:
    assert query_terms(query) == expected


def test_a_long_word_is_cut_the_same_way_in_both() -> None:
    word = "x" * (MAX_TERM + 10)
    assert index_terms(word) == query_terms(word) == {"x" * MAX_TERM}


_TEXT = st.text(alphabet=st.sampled_from("党建引领长征精神学习课第一二ABCabc019 -.:：《》（）"), max_size=30)


@given(text=_TEXT, start=st.integers(0, 30), length=st.integers(1, 30))
def test_every_substring_query_finds_its_text(text: str, start: int, length: int) -> None:
    # The search's promise: a piece of a title, cut anywhere between words or inside a run of
    # Chinese characters, finds it (its terms are a subset of the title's).
    piece = text[start : start + length]
    if not any(ch.isascii() and ch.isalnum() for ch in piece[:1] + piece[-1:]):  # not inside a word
        assert query_terms(piece) <= index_terms(text)


@given(text=st.text(max_size=40))
def test_any_text_is_its_own_query(text: str) -> None:
    assert query_terms(text) <= index_terms(text)
    assert all(0 < len(term) <= MAX_TERM for term in index_terms(text))
