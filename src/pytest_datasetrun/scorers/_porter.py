"""The Porter stemmer as rouge-score uses it (NLTK's ``PorterStemmer`` in its default mode).

Porter (1980), "An algorithm for suffix stripping", with the NLTK extensions that
``nltk.stem.porter.PorterStemmer()`` applies by default (and so ``rouge_score``'s
``use_stemmer=True``): irregular forms, no stemming of words of one or two letters, ``ies``/
``ied`` on four-letter words, ``y`` -> ``i`` only after a consonant, ``alli``, ``fulli``,
``logi``. Pure Python; the tests compare it with NLTK on a word list when NLTK is installed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

__all__ = ("porter_stem",)

Condition = Callable[[str], bool] | None
Rule = tuple[str, str, Condition]

_VOWELS = frozenset("aeiou")
_IRREGULAR = {
    "sky": ("sky", "skies"), "die": ("dying",), "lie": ("lying",), "tie": ("tying",),
    "news": ("news",), "inning": ("innings", "inning"), "outing": ("outings", "outing"),
    "canning": ("cannings", "canning"), "howe": ("howe",), "proceed": ("proceed",),
    "exceed": ("exceed",), "succeed": ("succeed",),
}  # fmt: skip
_POOL = {form: stem for stem, forms in _IRREGULAR.items() for form in forms}


@lru_cache(maxsize=65536)
def porter_stem(word: str) -> str:
    """The Porter stem of a lowercase word, as ``nltk.stem.porter.PorterStemmer().stem``."""
    word = word.lower()
    if word in _POOL:
        return _POOL[word]
    if len(word) <= 2:
        return word
    for step in (_step1a, _step1b, _step1c, _step2, _step3, _step4, _step5a, _step5b):
        word = step(word)
    return word


def _consonant(word: str, i: int) -> bool:
    if word[i] in _VOWELS:
        return False
    if word[i] == "y":
        return i == 0 or not _consonant(word, i - 1)
    return True


def _measure(stem: str) -> int:
    """m in [C](VC)^m[V]: the number of vowel-consonant sequences."""
    pattern = "".join("c" if _consonant(stem, i) else "v" for i in range(len(stem)))
    return pattern.count("vc")


def _positive(stem: str) -> bool:
    return _measure(stem) > 0


def _has_vowel(stem: str) -> bool:
    return any(not _consonant(stem, i) for i in range(len(stem)))


def _double_consonant(word: str) -> bool:
    return len(word) >= 2 and word[-1] == word[-2] and _consonant(word, len(word) - 1)


def _cvc(word: str) -> bool:
    if len(word) >= 3:
        n = len(word)
        return (
            _consonant(word, n - 3)
            and not _consonant(word, n - 2)
            and _consonant(word, n - 1)
            and word[-1] not in "wxy"
        )
    return len(word) == 2 and not _consonant(word, 0) and _consonant(word, 1)


def _apply(word: str, rules: list[Rule]) -> str:
    """The first rule whose suffix matches decides: its replacement, or the word unchanged."""
    for suffix, replacement, condition in rules:
        if suffix == "*d" and _double_consonant(word):
            stem = word[:-2]
            return stem + replacement if condition is None or condition(stem) else word
        if word.endswith(suffix):
            stem = word[: len(word) - len(suffix)]
            return stem + replacement if condition is None or condition(stem) else word
    return word


def _step1a(word: str) -> str:
    if word.endswith("ies") and len(word) == 4:
        return word[:-3] + "ie"
    return _apply(
        word, [("sses", "ss", None), ("ies", "i", None), ("ss", "ss", None), ("s", "", None)]
    )


def _step1b(word: str) -> str:
    if word.endswith("ied"):
        return word[:-3] + ("ie" if len(word) == 4 else "i")
    if word.endswith("eed"):
        stem = word[:-3]
        return stem + "ee" if _measure(stem) > 0 else word
    for suffix in ("ed", "ing"):
        if word.endswith(suffix) and _has_vowel(word[: -len(suffix)]):
            stem = word[: -len(suffix)]
            break
    else:
        return word
    return _apply(stem, [
        ("at", "ate", None), ("bl", "ble", None), ("iz", "ize", None),
        ("*d", stem[-1], lambda _: stem[-1] not in "lsz"),
        ("", "e", lambda s: _measure(s) == 1 and _cvc(s)),
    ])  # fmt: skip


def _step1c(word: str) -> str:
    return _apply(word, [("y", "i", lambda s: len(s) > 1 and _consonant(s, len(s) - 1))])


_STEP2: list[Rule] = [
    ("ational", "ate", _positive), ("tional", "tion", _positive), ("enci", "ence", _positive),
    ("anci", "ance", _positive), ("izer", "ize", _positive), ("bli", "ble", _positive),
    ("alli", "al", _positive), ("entli", "ent", _positive), ("eli", "e", _positive),
    ("ousli", "ous", _positive), ("ization", "ize", _positive), ("ation", "ate", _positive),
    ("ator", "ate", _positive), ("alism", "al", _positive), ("iveness", "ive", _positive),
    ("fulness", "ful", _positive), ("ousness", "ous", _positive), ("aliti", "al", _positive),
    ("iviti", "ive", _positive), ("biliti", "ble", _positive), ("fulli", "ful", _positive),
]  # fmt: skip


def _step2(word: str) -> str:
    if word.endswith("alli") and _positive(word[:-4]):
        return _step2(word[:-4] + "al")
    # 'logi' -> 'log' keeps the l with the stem, so short stems (geo-, theo-) count too.
    return _apply(word, [*_STEP2, ("logi", "log", lambda _: _positive(word[:-3]))])


_STEP3: list[Rule] = [
    ("icate", "ic", _positive), ("ative", "", _positive), ("alize", "al", _positive),
    ("iciti", "ic", _positive), ("ical", "ic", _positive), ("ful", "", _positive),
    ("ness", "", _positive),
]  # fmt: skip


def _step3(word: str) -> str:
    return _apply(word, _STEP3)


def _long(stem: str) -> bool:
    return _measure(stem) > 1


_STEP4: list[Rule] = [
    ("al", "", _long), ("ance", "", _long), ("ence", "", _long), ("er", "", _long),
    ("ic", "", _long), ("able", "", _long), ("ible", "", _long), ("ant", "", _long),
    ("ement", "", _long), ("ment", "", _long), ("ent", "", _long),
    ("ion", "", lambda s: _measure(s) > 1 and s[-1:] in ("s", "t")),
    ("ou", "", _long), ("ism", "", _long), ("ate", "", _long), ("iti", "", _long),
    ("ous", "", _long), ("ive", "", _long), ("ize", "", _long),
]  # fmt: skip


def _step4(word: str) -> str:
    return _apply(word, _STEP4)


def _step5a(word: str) -> str:
    if word.endswith("e"):
        stem = word[:-1]
        if _measure(stem) > 1 or (_measure(stem) == 1 and not _cvc(stem)):
            return stem
    return word


def _step5b(word: str) -> str:
    return _apply(word, [("ll", "l", lambda _: _measure(word[:-1]) > 1)])
