"""Family-wise error control across the scorers of one comparison (Holm–Bonferroni)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

__all__ = ("Correction", "CORRECTIONS", "adjust_p_values")

Correction = Literal["holm", "none"]
CORRECTIONS: tuple[str, ...] = ("holm", "none")


def adjust_p_values(p_values: Sequence[float | None], method: str = "holm") -> list[float | None]:
    """Adjusted p-values: reject hypothesis ``i`` when its adjusted p-value is below alpha.

    ``"holm"`` is Holm's (1979) step-down Bonferroni: with the ``m`` p-values sorted,
    ``p(1) <= ... <= p(m)``, the adjusted value of ``p(i)`` is
    ``max over j <= i of min(1, (m - j + 1) * p(j))``. It keeps the chance of flagging any
    scorer when none changed at most alpha, whatever the dependence between the scorers.
    ``"none"`` returns the p-values unchanged. ``None`` (an untested scorer) stays ``None``
    and is not counted in ``m``.

    :raises ValueError: an unknown method.
    """
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}; use one of {', '.join(CORRECTIONS)}")
    adjusted: list[float | None] = list(p_values)
    if method == "none":
        return adjusted
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m, running = len(tested), 0.0
    for rank, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
