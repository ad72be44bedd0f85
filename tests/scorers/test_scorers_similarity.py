"""Unit tests of the graded similarity scorers against published and hand-computed values.

The ROUGE-L values are those of rouge-score 0.1.2 (``RougeScorer(["rougeL"])``) and of Lin
(2004), section 3.1; the token F1 values follow SQuAD v2.0's official ``compute_f1``. Both were
also checked on 2000 random sentence pairs against those implementations while writing this.
"""

from __future__ import annotations

import random

import pytest

from pytest_datasetrun.scorers import fuzzy_ratio, levenshtein, rouge_l, token_f1
from pytest_datasetrun.scorers._sequence import lcs_length, levenshtein_distance
from pytest_datasetrun.scorers.similarity import rouge_tokens, squad_normalize

LONG = "".join(random.Random(7).choice("abcdefgh ") for _ in range(100_000))


def _table_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, 1):
        current = [i]
        for j, right in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left != right))
            )
        previous = current
    return previous[-1]


def _table_lcs(a: str, b: str) -> int:
    previous = [0] * (len(b) + 1)
    for left in a:
        current = [0]
        for j, right in enumerate(b, 1):
            current.append(
                previous[j - 1] + 1 if left == right else max(previous[j], current[j - 1])
            )
        previous = current
    return previous[-1]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("", "abc", 3),
        ("kitten", "sitting", 3),
        ("flaw", "lawn", 2),
        ("intention", "execution", 5),
        ("straße", "strasse", 2),
        ("日本語", "日本", 1),
    ],
)
def test_levenshtein_distance_known_values(a, b, distance):
    assert levenshtein_distance(a, b) == levenshtein_distance(b, a) == distance


def test_bit_parallel_algorithms_agree_with_the_dynamic_programming_tables():
    rng = random.Random(0)
    for _ in range(300):
        a = "".join(rng.choice("abé ") for _ in range(rng.randint(0, 70)))
        b = "".join(rng.choice("abé ") for _ in range(rng.randint(0, 70)))
        assert levenshtein_distance(a, b) == _table_distance(a, b), (a, b)
        assert lcs_length(a, b) == _table_lcs(a, b), (a, b)


def test_lcs_length_on_tokens():
    assert lcs_length(["a", "b", "c", "d"], ["a", "c", "x", "d"]) == 3


@pytest.mark.parametrize(
    ("output", "expected", "params", "value"),
    [
        ("kitten", "sitting", {}, 1 - 3 / 7),
        ("abc", "abc", {}, 1.0),
        ("", "", {}, 1.0),
        (None, "abc", {}, 0.0),
        ("ABC", "abc", {}, 0.0),
        ("ABC", "abc", {"ignore_case": True}, 1.0),
        ("kitten", ["sitting", "mitten"], {}, 1 - 1 / 6),
    ],
)
def test_levenshtein(output, expected, params, value):
    assert levenshtein(output, expected, **params).value == pytest.approx(value)


def test_levenshtein_on_100k_chars_is_bounded():
    score = levenshtein(LONG, "abc def")
    assert 0.0 <= score.value < 0.001


def test_fuzzy_ratio_matches_rapidfuzz_documented_examples():
    # rapidfuzz README: ratio("this is a test", "this is a test!") == 96.55...
    assert fuzzy_ratio("this is a test", "this is a test!").value == pytest.approx(0.9655172)
    # partial_ratio("this is a test", "this is a test!") == 100
    assert fuzzy_ratio("this is a test", "this is a test!", method="partial_ratio").value == 1.0
    # token_sort_ratio("fuzzy wuzzy was a bear", "wuzzy fuzzy was a bear") == 100
    score = fuzzy_ratio(
        "fuzzy wuzzy was a bear", "wuzzy fuzzy was a bear", method="token_sort_ratio"
    )
    assert score.value == 1.0
    assert fuzzy_ratio("fuzzy wuzzy was a bear", "wuzzy fuzzy was a bear").value < 1.0


def test_fuzzy_ratio_preprocess_and_references():
    assert fuzzy_ratio("HELLO World!", "hello world").value < 1.0
    assert fuzzy_ratio("HELLO World!", "hello world", preprocess=True).value == 1.0
    assert fuzzy_ratio("abc", ["xyz", "abc"]).value == 1.0
    assert fuzzy_ratio(None, "abc").value == 0.0


def test_fuzzy_ratio_rejects_unknown_method_and_declares_its_extra():
    with pytest.raises(ValueError, match="method"):
        fuzzy_ratio("a", "a", method="WRatio")
    assert fuzzy_ratio.__datasetrun_requires__ == ("rapidfuzz", "text")


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("The Denver Broncos!", "denver broncos"),
        ("an apple, a day", "apple day"),
        ("  theatre  ", "theatre"),
        ("Super Bowl L", "super bowl l"),
        ("café «crème»", "café «crème»"),
    ],
)
def test_squad_normalize(text, normalised):
    assert squad_normalize(text) == normalised


@pytest.mark.parametrize(
    ("output", "expected", "value"),
    [
        ("Denver Broncos", "The Denver Broncos", 1.0),
        ("the Broncos", "Denver Broncos", 2 * 1.0 * 0.5 / 1.5),
        ("Denver Broncos won", "Denver Broncos", 0.8),
        ("Carolina", "Denver Broncos", 0.0),
        ("Broncos", ["Denver Broncos", "Broncos"], 1.0),
        ("", "", 1.0),
        ("the", "a", 1.0),
        ("", "Denver", 0.0),
        (None, "Denver", 0.0),
        ("a a b", "a b b", 2 / 3),
    ],
)
def test_token_f1_follows_squad_v2(output, expected, value):
    assert token_f1(output, expected).value == pytest.approx(value)


def test_token_f1_without_expected_raises():
    with pytest.raises(ValueError, match="expected"):
        token_f1("x", None)


def test_rouge_tokens_match_rouge_score_on_ascii_and_keep_unicode_letters():
    assert rouge_tokens("The log.") == ["the", "log"]
    assert rouge_tokens("don't x_y 3.5") == ["don", "t", "x", "y", "3", "5"]
    assert rouge_tokens("Café ÜBER") == ["café", "über"]


@pytest.mark.parametrize(
    ("prediction", "reference", "precision", "recall", "fmeasure"),
    [
        # rouge-score README example: score(target, prediction)
        (
            "The quick brown dog jumps on the log.",
            "The quick brown fox jumps over the lazy dog",
            0.625,
            5 / 9,
            50 / 85,
        ),
        # Lin (2004), section 3.1: S2 and S3 against reference S1
        ("police kill the gunman", "police killed the gunman", 0.75, 0.75, 0.75),
        ("the gunman kill police", "police killed the gunman", 0.5, 0.5, 0.5),
        ("", "police", 0.0, 0.0, 0.0),
        ("cats", "dogs", 0.0, 0.0, 0.0),
    ],
)
def test_rouge_l_known_values(prediction, reference, precision, recall, fmeasure):
    score = rouge_l(prediction, reference)
    assert score.value == pytest.approx(fmeasure)
    assert score.metadata == pytest.approx({"precision": precision, "recall": recall})


def test_rouge_l_takes_the_best_reference():
    # rouge-score score_multi(["a b c", "a b d e"], "a b d") picks F = 6/7
    assert rouge_l("a b d", ["a b c", "a b d e"]).value == pytest.approx(6 / 7)


def test_rouge_l_on_100k_chars_is_bounded():
    text = " ".join(["word"] * 20_000)
    assert rouge_l(text, text).value == 1.0
