"""Graded text-similarity scorers: fuzzy ratios, Levenshtein, SQuAD token F1 and ROUGE-L.

Each compares the output text with the expected text; with a list of references the best one
counts (as SQuAD's ``metric_max_over_ground_truths`` and rouge-score's ``score_multi`` do).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable
from typing import Any

from pytest_datasetrun.score import Score

from ._porter import porter_stem
from ._sequence import lcs_length, levenshtein_distance
from ._util import import_optional, references, requires, shorten, to_text

__all__ = ("fuzzy_ratio", "levenshtein", "token_f1", "rouge_l", "squad_normalize", "rouge_tokens")

_FUZZY_METHODS = ("ratio", "partial_ratio", "token_sort_ratio", "token_set_ratio")
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_ASCII_PUNCTUATION = frozenset(string.punctuation)
_WORD = re.compile(r"[^\W_]+")


def _best(
    output: Any, expected: Any, scorer: str, measure: Callable[[str, str], float]
) -> tuple[float, str]:
    text = to_text(output)
    scored = [(measure(text, ref), ref) for ref in references(expected, scorer)]
    return max(scored, key=lambda pair: pair[0])


@requires("rapidfuzz", "text")
def fuzzy_ratio(
    output: Any, expected: Any, *, method: str = "ratio", preprocess: bool = False
) -> Score:
    """Fuzzy string similarity from rapidfuzz (``fuzz.<method>`` / 100), best over references.

    :param output: the target's output, read as text.
    :param expected: the reference text, or a list of references.
    :param method: ``ratio``, ``partial_ratio``, ``token_sort_ratio`` or ``token_set_ratio``.
    :param preprocess: apply rapidfuzz's ``default_process`` first (lowercase, punctuation to
        spaces, trim).
    :raises ValueError: without an expected value, or for an unknown method.
    """
    if method not in _FUZZY_METHODS:
        raise ValueError(f"scorer 'fuzzy_ratio': method must be one of {_FUZZY_METHODS}")
    fuzz = import_optional("rapidfuzz.fuzz", "fuzzy_ratio", "text")
    processor = import_optional("rapidfuzz.utils", "fuzzy_ratio", "text").default_process
    ratio = getattr(fuzz, method)

    def measure(text: str, ref: str) -> float:
        return float(ratio(text, ref, processor=processor if preprocess else None)) / 100.0

    value, ref = _best(output, expected, "fuzzy_ratio", measure)
    return Score(value, reason=f"{method} {value:.3f} against {shorten(ref)}")


def levenshtein(output: Any, expected: Any, *, ignore_case: bool = False) -> Score:
    """Normalised Levenshtein similarity: ``1 - distance / max(len)``, best over references.

    Two empty texts are identical (1.0). Runs in ``O(n * m / 64)`` word operations (bit-parallel).

    :param output: the target's output, read as text.
    :param expected: the reference text, or a list of references.
    :param ignore_case: compare case-insensitively (Unicode casefold).
    """

    def measure(text: str, ref: str) -> float:
        if ignore_case:
            text, ref = text.casefold(), ref.casefold()
        longest = max(len(text), len(ref))
        return 1.0 - levenshtein_distance(text, ref) / longest if longest else 1.0

    value, ref = _best(output, expected, "levenshtein", measure)
    return Score(value, reason=f"similarity {value:.3f} to {shorten(ref)}")


def squad_normalize(text: str) -> str:
    """Normalise an answer as SQuAD's official evaluation script does.

    Lowercase, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace.
    """
    text = "".join(ch for ch in text.lower() if ch not in _ASCII_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _f1(prediction: list[str], reference: list[str]) -> float:
    if not prediction or not reference:
        return float(prediction == reference)
    same = sum((Counter(prediction) & Counter(reference)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(prediction), same / len(reference)
    return 2 * precision * recall / (precision + recall)


def token_f1(output: Any, expected: Any) -> Score:
    """SQuAD-style token F1 between output and expected answer, best over references.

    Both sides go through :func:`squad_normalize` and split on whitespace. As in the SQuAD v2.0
    script (``get_raw_scores``), references that normalise to empty are dropped when another
    one is not, so an empty answer scores 0 against them; when every reference is empty (an
    unanswerable question) only an empty answer scores 1.

    :param output: the target's output, read as text.
    :param expected: the reference answer, or a list of acceptable answers.
    """
    refs = references(expected, "token_f1")
    answerable = [ref for ref in refs if squad_normalize(ref)]
    golds = answerable or [""]
    tokens = squad_normalize(to_text(output)).split()
    value, ref = max(
        ((_f1(tokens, squad_normalize(gold).split()), gold) for gold in golds),
        key=lambda pair: pair[0],
    )
    return Score(value, reason=f"F1 {value:.3f} against {shorten(ref)}")


def rouge_tokens(text: str) -> list[str]:
    """Tokenise as rouge-score's default tokenizer does, but keep non-ASCII letters.

    Lowercase, then take runs of letters and digits. On ASCII text this equals rouge-score's
    ``tokenize`` without stemming; rouge-score would drop non-ASCII letters (``café`` → ``caf``).
    """
    return _WORD.findall(text.lower())


def _rouge_l(prediction: list[str], reference: list[str]) -> tuple[float, float, float]:
    if not prediction or not reference:
        return 0.0, 0.0, 0.0
    common = lcs_length(prediction, reference)
    precision, recall = common / len(prediction), common / len(reference)
    if common == 0:
        return precision, recall, 0.0
    return precision, recall, 2 * precision * recall / (precision + recall)


def rouge_l(output: Any, expected: Any, *, stem: bool = False) -> Score:
    """ROUGE-L F-measure (longest common token subsequence), as rouge-score's ``rougeL``.

    Tokens come from :func:`rouge_tokens`; with several references the best F-measure counts.
    Precision and recall go to metadata. An empty side scores 0, as in rouge-score.

    :param output: the target's output (the prediction), read as text.
    :param expected: the reference (target) text, or a list of references.
    :param stem: Porter-stem tokens longer than 3 characters first, as rouge-score's
        ``use_stemmer=True`` (NLTK's Porter stemmer, reimplemented in pure Python).
    """

    def tokens(value: str) -> list[str]:
        words = rouge_tokens(value)
        return [porter_stem(w) if len(w) > 3 else w for w in words] if stem else words

    text = tokens(to_text(output))
    scored = [(_rouge_l(text, tokens(ref)), ref) for ref in references(expected, "rouge_l")]
    (precision, recall, fmeasure), ref = max(scored, key=lambda pair: pair[0][2])
    return Score(
        fmeasure,
        reason=f"ROUGE-L F {fmeasure:.3f} against {shorten(ref)}",
        metadata={"precision": precision, "recall": recall},
    )
