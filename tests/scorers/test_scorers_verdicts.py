"""Issue 10.7: scorer semantics that match the tools users port their checks from."""

from __future__ import annotations

import collections
import re
import string
from dataclasses import dataclass

import pytest

from pytest_datasetrun.scorers import exact_match, numeric_close, rouge_l, token_f1
from pytest_datasetrun.scorers.judgeparse import parse_verdict
from pytest_datasetrun.scorers.structure import json_match, json_schema, json_valid


# The SQuAD v2.0 evaluation script's answer handling (evaluate-v2.0.py: normalize_answer,
# compute_f1, and get_raw_scores' gold-answer filtering), restated as the reference.
def _squad_normalize(s: str) -> str:
    s = "".join(ch for ch in s.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", s).split())


def _squad_f1(gold: str, pred: str) -> float:
    gold_toks, pred_toks = _squad_normalize(gold).split(), _squad_normalize(pred).split()
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    same = sum(common.values())
    if not gold_toks or not pred_toks:
        return float(gold_toks == pred_toks)
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_toks), same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def _squad_v2(golds: list[str], pred: str) -> float:
    golds = [g for g in golds if _squad_normalize(g)] or [""]
    return max(_squad_f1(g, pred) for g in golds)


@pytest.mark.parametrize(
    ("golds", "pred"),
    [
        (["Paris", "the"], ""),  # 'the' normalises to empty: the empty answer is still wrong
        (["Paris", "."], ""),
        (["Paris", "the"], "Paris"),
        (["", "a"], ""),  # unanswerable: only the empty answer is right
        (["", "a"], "Paris"),
        (["the cat sat", "a dog"], "cat"),
        (["Paris"], "the Paris!"),
    ],
)
def test_token_f1_follows_the_squad_v2_script(golds, pred):
    assert token_f1(pred, golds).value == pytest.approx(_squad_v2(golds, pred))


def test_an_empty_answer_no_longer_scores_1_against_an_empty_reference():
    assert token_f1("", ["Paris", "the"]).value == 0.0
    assert token_f1("", ["the"]).value == 1.0


@pytest.mark.parametrize(
    ("output", "expected", "value"),
    [
        (float("inf"), [5, float("inf")], 1.0),
        (float("inf"), [float("inf"), 5], 1.0),
        (float("-inf"), [float("inf"), -1e308], 0.0),
        (4.0, [10, 4.0000000001, 3], 1.0),
        ("7", ["1", "2", "7"], 1.0),
        (7.0, (1, 2), 0.0),
    ],
)
def test_numeric_close_takes_the_best_match_over_the_list(output, expected, value):
    assert numeric_close(output, expected).value == value


def test_numeric_close_reports_the_matched_value():
    score = numeric_close(float("inf"), [5, float("inf")])
    assert score.metadata["expected"] == "inf" and score.reason.startswith("inf ≈ inf")


def test_exact_match_nfkc_and_unicode_punctuation_and_symbols():
    assert exact_match("ﬁnal １０", "final 10").value == 0.0
    assert exact_match("ﬁnal １０", "final 10", normalize="NFKC").value == 1.0
    # HF evaluate removes string.punctuation, ASCII symbols such as $ + < = > | ~ included;
    # here every Unicode punctuation (P*) and symbol (S*) character goes.
    assert (
        exact_match("$5 + tax!", "5  tax", ignore_punctuation=True, ignore_whitespace=True).value
        == 1.0
    )
    assert exact_match("«5€»", "5", ignore_punctuation=True).value == 1.0
    assert exact_match("a©b", "ab", ignore_punctuation=True).value == 1.0
    with pytest.raises(ValueError, match="normalize must be one of"):
        exact_match("a", "a", normalize="NFX")


@dataclass
class Point:
    xy: tuple[int, int]


def test_a_python_tuple_is_a_json_array_for_every_structure_scorer():
    assert json_valid((1, 2), require="array").value == 1.0
    assert json_match((1, [2, (3,)]), [1, [2, [3]]]).value == 1.0
    assert json_match({"p": (1, 2)}, {"p": [1, 2]}).value == 1.0
    schema = {"type": "object", "properties": {"xy": {"type": "array", "maxItems": 2}}}
    assert json_schema(Point((1, 2)), schema=schema).value == 1.0
    assert json_schema((1, 2), schema={"type": "array"}).value == 1.0


@pytest.mark.parametrize(
    ("reply", "quoted"),
    [
        ('{"score": 4, "reason": "ok"}\nScore: 3/5', ["'Score: 3/5'", '{"score": 4']),
        ("Score: 3/5\nOn reflection... Score: 4/5", ["'Score: 3/5'", "'Score: 4/5'"]),
        ('{"score": 0.8} and later {"score": 0.4}', ['{"score": 0.8}', '{"score": 0.4}']),
        ("Rating: 7 out of 10. Final score: 7/9", ["'Rating: 7 out of 10'", "'score: 7/9'"]),
    ],
)
def test_a_judge_reply_with_different_scores_is_an_error_quoting_them(reply, quoted):
    with pytest.raises(ValueError, match="different scores") as info:
        parse_verdict(reply)
    for quote in quoted:
        assert quote in str(info.value)


@pytest.mark.parametrize(
    "reply",
    [
        '{"score": 4, "reason": "fine"}\nScore: 4/5',
        "Score: 4/5\nReason: good. Final score: 4/5",
        '{"criteria": [{"name": "tone", "score": 2}], "score": 4}',
    ],
)
def test_a_judge_reply_that_repeats_one_score_is_fine(reply):
    assert parse_verdict(reply)[0] == 4.0


# -- rouge_l(stem=true): Porter stemming as rouge-score's use_stemmer ---------------------------

TRICKY = re.findall(
    r"[a-z]+",
    "caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated "
    "troubled sized hopping tanned falling hissing fizzed failing filing happy sky skies dying "
    "relational conditional rational valenci hesitanci digitizer conformabli radicalli "
    "differentli vileli analogousli vietnamization predication operator feudalism decisiveness "
    "hopefulness callousness formaliti sensitiviti sensibiliti triplicate formative formalize "
    "electriciti electrical hopeful goodness revival allowance inference airliner gyroscopic "
    "adjustable defensible irritant replacement adjustment dependent adoption homologou "
    "communism activate angulariti homologous effective bowdlerize probate rate cease "
    "controll roll generously archaeology geology fully news innings proceeding exceeded",
)


def _word_list() -> list[str]:
    import inspect
    import json as json_module
    import statistics

    text = " ".join(inspect.getsource(m) for m in (json_module, statistics, inspect))
    return sorted(set(re.findall(r"[a-z]+", text.lower())) | set(TRICKY))


def test_the_porter_stemmer_matches_nltk():
    porter = pytest.importorskip("nltk.stem.porter")
    from pytest_datasetrun.scorers._porter import porter_stem

    stemmer = porter.PorterStemmer()
    words = _word_list()
    assert len(words) > 1500
    assert [w for w in words if porter_stem(w) != stemmer.stem(w)] == []


def test_the_porter_stemmer_on_the_papers_examples():
    from pytest_datasetrun.scorers._porter import porter_stem

    pairs = {"caresses": "caress", "ponies": "poni", "relational": "relat", "hopping": "hop",
             "generalizations": "gener", "oscillators": "oscil", "running": "run"}  # fmt: skip
    assert {w: porter_stem(w) for w in pairs} == pairs


def test_rouge_l_with_stemming():
    plain = rouge_l("the cats were running", "the cat runs")
    stemmed = rouge_l("the cats were running", "the cat runs", stem=True)
    assert plain.value == pytest.approx(2 / 7)  # only 'the' in common: P 1/4, R 1/3
    assert stemmed.value == pytest.approx(2 * (3 / 4) * 1 / (3 / 4 + 1))  # the cat run
    # rouge-score leaves tokens of 3 characters or fewer alone: 'was' is not stemmed to 'wa'
    assert rouge_l("was", "wa", stem=True).value == 0.0
