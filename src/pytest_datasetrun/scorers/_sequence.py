"""Bit-parallel sequence algorithms: Levenshtein distance and longest common subsequence.

Both treat Python integers as bit vectors over the shorter sequence (Myers 1999 / Hyyrö 2003 for
Levenshtein, Allison-Dix / Hyyrö 2004 for LCS), so they run in ``O(n * ceil(m / 64))`` word
operations and ``O(m)`` memory instead of the ``O(n * m)`` table: two 100k-character texts take
a few seconds (LCS under one), a 100k-character text against a short reference milliseconds.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

__all__ = ("levenshtein_distance", "lcs_length")


def _match_masks(pattern: Sequence[Hashable]) -> dict[Hashable, int]:
    masks: dict[Hashable, int] = {}
    for position, symbol in enumerate(pattern):
        masks[symbol] = masks.get(symbol, 0) | (1 << position)
    return masks


def levenshtein_distance(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Return the edit distance (insertions, deletions, substitutions, all cost 1) of two sequences.

    :param a: a string or a sequence of hashable tokens.
    :param b: another one.
    """
    if len(a) > len(b):
        a, b = b, a
    if not a:
        return len(b)
    masks = _match_masks(a)
    full = (1 << len(a)) - 1
    last = 1 << (len(a) - 1)
    positive, negative, distance = full, 0, len(a)
    for symbol in b:
        equal = masks.get(symbol, 0)
        vertical = equal | negative
        horizontal = (((equal & positive) + positive) ^ positive) | equal
        h_positive = negative | (~(horizontal | positive) & full)
        h_negative = positive & horizontal
        if h_positive & last:
            distance += 1
        elif h_negative & last:
            distance -= 1
        h_positive = ((h_positive << 1) | 1) & full
        h_negative = (h_negative << 1) & full
        positive = h_negative | (~(vertical | h_positive) & full)
        negative = h_positive & vertical
    return distance


def lcs_length(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Return the length of the longest common subsequence of two sequences.

    :param a: a string or a sequence of hashable tokens.
    :param b: another one.
    """
    if len(a) > len(b):
        a, b = b, a
    if not a:
        return 0
    masks = _match_masks(a)
    full = (1 << len(a)) - 1
    row = full
    for symbol in b:
        matched = row & masks.get(symbol, 0)
        row = ((row + matched) | (row - matched)) & full
    return len(a) - row.bit_count()
