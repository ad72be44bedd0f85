"""numpy versions of the per-item resampling loops, drawing the same random numbers in order.

Used when numpy is importable (the ``semantic`` extra installs it; nothing requires it). Each
function returns what its pure-Python loop in :mod:`pytest_datasetrun.analysis.resampling`
returns for the same ``random.Random`` state, and leaves the generator in the same state: the
random numbers are taken from the same Mersenne Twister words in the same order, and the sums
add the same floats left to right (a reduction down the rows), as ``sum`` does up to Python 3.11 (3.12's
``sum`` compensates rounding, so there the last bit of a sum may differ). Without numpy the
functions return ``None`` and the caller runs its own loop.
"""

from __future__ import annotations

import random
from typing import Any

_UNLOADED: Any = object()
# numpy, imported on first use so that commands which never resample do not pay for it
# (``None``: not installed; tests set it to ``None`` to run the pure loops).
np: Any = _UNLOADED

__all__ = ("choice_sums", "flip_sums", "numpy_module")

_BATCH = 1 << 18  # resampled items held at once (2 MiB of float64 per array)
_TWO_MINUS_53 = 1.0 / 9007199254740992.0


def numpy_module() -> Any:
    """numpy, imported on the first call; ``None`` when it is not installed."""
    global np  # a cache of the import, not state: the module is the same for every caller
    if np is _UNLOADED:
        try:
            import numpy
        except ImportError:  # pragma: no cover - exercised when numpy is not installed
            numpy = None  # type: ignore[assignment]
        np = numpy
    return np


def flip_sums(magnitudes: list[float], n_resamples: int, rng: random.Random) -> list[float] | None:
    """As :func:`~pytest_datasetrun.analysis.resampling.sign_flip_sums`, or ``None``.

    Byte ``j`` of a resample's random bytes picks items ``8j .. 8j + 7`` (bit ``k``: item
    ``8j + k``); row ``j`` of a table holds the sum of each of the 256 subsets of those items,
    added in bit order from 0.0 (what the loop's subset-sum table holds: adding 0.0 for an
    unpicked item changes nothing), and the bytes' sums are added left to right.
    """
    np = numpy_module()
    if np is None:
        return None
    count = -(-len(magnitudes) // 8)
    values = np.zeros(count * 8)
    values[: len(magnitudes)] = magnitudes
    tables = np.zeros((count, 256))
    masks = np.arange(256)
    for bit, bit_values in enumerate(values.reshape(count, 8).T):  # item 8j + bit of byte j
        tables += np.outer(bit_values, (masks >> bit) & 1)
    offsets = (np.arange(count) * 256)[:, np.newaxis]  # row j of the flattened tables
    sums: list[float] = []
    batch = max(1, _BATCH // count)
    words = _Words(rng)
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        picks = words.randbytes(count, size).T + offsets
        sums.extend(_down_columns(tables.ravel()[picks]))
    words.hand_back()
    return sums


def choice_sums(
    columns: list[list[float]], n_resamples: int, rng: random.Random
) -> list[list[float]] | None:
    """As :func:`~pytest_datasetrun.analysis.resampling.resampled_sums`, or ``None``.

    ``rng.choices(range(n), k=n)`` takes ``floor(random() * n)`` for each position, and each
    ``random()`` two 32-bit words.
    """
    np = numpy_module()
    if np is None:
        return None
    n = len(columns[0])
    data = np.array(columns, dtype=np.float64)
    sums: list[list[float]] = [[] for _ in columns]
    batch = max(1, _BATCH // n)
    words = _Words(rng)
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        positions = _positions(words.take(2 * n * size), size, n)
        for column, column_sums in zip(data, sums, strict=True):
            column_sums.extend(_down_columns(column[positions]))
    words.hand_back()
    return sums


def _positions(words: Any, size: int, n: int) -> Any:
    """``floor(random() * n)`` for each pair of words, one resample per column (``n`` rows).

    ``random()`` is ``whole / 2**53`` with ``whole = (a >> 5) * 2**26 + (b >> 6)`` for the words
    ``a, b`` in order, exact in float64; ``whole * (n / 2**53)`` rounds as ``random() * n`` does
    (the same real number: scaling by a power of two commutes with rounding).
    """
    pairs = words.reshape(size, n, 2).transpose(1, 0, 2)
    scaled = np.empty((n, size))
    np.multiply(pairs[:, :, 0] >> 5, 67108864.0, out=scaled)  # 2**26
    scaled += pairs[:, :, 1] >> 6
    scaled *= n * _TWO_MINUS_53
    return scaled.astype(np.intp)  # truncation is floor: every value is >= 0


class _Words:
    """The 32-bit words ``rng`` would draw next, from numpy's copy of its Mersenne Twister.

    numpy's ``MT19937`` is the same generator as ``random.Random``'s: given the state, its
    ``random_raw`` yields the words ``getrandbits`` would use, in order, without building a
    Python integer; :meth:`hand_back` leaves ``rng`` at the state after the words taken.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._version, key, self._gauss = rng.getstate()
        self._twister = np.random.MT19937(0)
        self._twister.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.array(key[:-1], dtype=np.uint32), "pos": key[-1]},
        }

    def take(self, count: int) -> Any:
        """The next ``count`` words (as ``uint64``)."""
        return self._twister.random_raw(count)

    def randbytes(self, count: int, size: int) -> Any:
        """``size`` rows of what ``rng.randbytes(count)`` returns, as ``uint8``.

        That is ``getrandbits(8 * count)``: whole words, low first, and the top bits of the
        last word when ``count`` is not a multiple of 4.
        """
        per = -(-count // 4)
        rows = self.take(per * size).astype("<u4").reshape(size, per)
        if count % 4:
            rows[:, -1] >>= 32 - 8 * (count % 4)
        return rows.view(np.uint8)[:, :count]

    def hand_back(self) -> None:
        """Set ``rng`` to the state after the words taken."""
        state = self._twister.state["state"]
        key = (*state["key"].tolist(), int(state["pos"]))
        self._rng.setstate((self._version, key, self._gauss))


def _down_columns(rows: Any) -> list[float]:
    """Each column's sum, adding its rows top to bottom from 0 (``sum`` up to Python 3.11).

    A reduction over the first axis of a C-ordered array adds row after row into the running
    sums; numpy sums pairwise only along the contiguous axis, which a single column is, so one
    column is accumulated instead.
    """
    rows = np.ascontiguousarray(rows)
    if rows.shape[1] == 1:
        result: list[float] = np.cumsum(rows[:, 0])[-1:].tolist()
        return result
    result = np.add.reduce(rows, axis=0).tolist()
    return result
