"""numpy versions of the per-item resampling loops, drawing the same random numbers in order.

Used when numpy is importable (the ``semantic`` extra installs it; nothing requires it). Each
function returns what its pure-Python loop in :mod:`pytest_datasetrun.analysis.resampling`
returns for the same ``random.Random`` state, and leaves the generator in the same state: the
random numbers are taken from the same Mersenne Twister words in the same order, and the sums
add the same floats left to right (``numpy.cumsum``), as ``sum`` does up to Python 3.11 (3.12's
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
    ``8j + k``); each byte's items are added in bit order from 0.0 (what the loop's subset-sum
    table holds: adding 0.0 for an unpicked item changes nothing), then the bytes' sums left to
    right.
    """
    np = numpy_module()
    if np is None:
        return None
    count = -(-len(magnitudes) // 8)
    values = np.zeros(count * 8)
    values[: len(magnitudes)] = magnitudes
    by_bit = values.reshape(count, 8).T.copy()  # row k: item 8j + k of every byte j
    sums: list[float] = []
    batch = max(1, _BATCH // count)
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        raw = b"".join([rng.randbytes(count) for _ in range(size)])  # one call per resample
        picks = np.frombuffer(raw, dtype=np.uint8).reshape(size, count)
        chunks = np.zeros((size, count))
        for bit, bit_values in enumerate(by_bit):
            chunks += ((picks >> bit) & 1) * bit_values
        sums.extend(_left_to_right(chunks))
    return sums


def choice_sums(
    columns: list[list[float]], n_resamples: int, rng: random.Random
) -> list[list[float]] | None:
    """As :func:`~pytest_datasetrun.analysis.resampling.resampled_sums`, or ``None``.

    ``rng.choices(range(n), k=n)`` takes ``floor(random() * n)`` for each position, and each
    ``random()`` two 32-bit words: ``getrandbits(64 * n)`` hands over the same words in order.
    """
    np = numpy_module()
    if np is None:
        return None
    n = len(columns[0])
    data = np.array(columns, dtype=np.float64)
    sums: list[list[float]] = [[] for _ in columns]
    batch = max(1, _BATCH // n)
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        words = [rng.getrandbits(64 * n).to_bytes(8 * n, "little") for _ in range(size)]
        positions = _positions(b"".join(words), size, n)
        for column, column_sums in zip(data, sums, strict=True):
            column_sums.extend(_left_to_right(column[positions]))
    return sums


def _positions(raw: bytes, size: int, n: int) -> Any:
    """``floor(random() * n)`` for each pair of words: ``random()`` is ``(a >> 5, b >> 6)`` as
    the 53-bit integer ``(a >> 5) * 2**26 + (b >> 6)`` over ``2**53`` (exact in float64)."""
    pairs = np.frombuffer(raw, dtype="<u8").reshape(size, n)  # word a low, word b high
    whole = (((pairs & 0xFFFFFFFF) >> 5) << 26) | (pairs >> 38)
    uniform = whole.astype(np.float64) * _TWO_MINUS_53
    return (uniform * float(n)).astype(np.intp)  # truncation is floor: every value is >= 0


def _left_to_right(rows: Any) -> list[float]:
    """Each row's sum, adding left to right from 0 (``sum`` up to Python 3.11)."""
    result: list[float] = np.cumsum(rows, axis=1)[:, -1].tolist()
    return result
