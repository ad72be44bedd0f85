"""The comparison gives the figures the per-item implementation recorded (issue 15), on every path.

The resampling has three ways to draw the same sign patterns and bootstrap positions (numpy,
a bit mask per distinct magnitude, the pure per-item loop); each must give what the loop gave.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from typing import Any

import pytest
from compare_cases import RECORDED, cases

from pytest_datasetrun.analysis import resampling, stats, vectorised
from pytest_datasetrun.analysis.compare import compare_runs

CASES = cases()
FIGURES = json.loads(RECORDED.read_text())


def differences(want: Any, got: Any, path: str = "") -> Iterator[str]:
    """Where ``got`` differs from ``want``; floats to 1e-12 (the order of additions differs)."""
    if isinstance(want, dict) and isinstance(got, dict):
        for key in want.keys() | got.keys():
            yield from differences(want.get(key), got.get(key), f"{path}.{key}")
    elif isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        for i, (a, b) in enumerate(zip(want, got, strict=True)):
            yield from differences(a, b, f"{path}[{i}]")
    elif isinstance(want, float) and isinstance(got, float):
        if not math.isclose(want, got, rel_tol=1e-12, abs_tol=1e-15):
            yield f"{path}: {want!r} != {got!r}"
    elif want != got:
        yield f"{path}: {want!r} != {got!r}"


@pytest.fixture(params=["numpy", "pure"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pure":
        monkeypatch.setattr(vectorised, "np", None)
    elif vectorised.numpy_module() is None:
        pytest.skip("numpy is not installed")
    return str(request.param)


@pytest.mark.parametrize("name", sorted(CASES))
def test_comparison_has_the_recorded_figures(name: str, path: str) -> None:
    base, cand, kwargs = CASES[name]
    got = compare_runs(base, cand, **kwargs).model_dump(mode="json")
    assert list(differences(FIGURES[name], got)) == []


def _magnitudes(kind: str, n: int) -> list[float]:
    rng = random.Random(n)
    if kind == "continuous":
        return [abs(rng.random() - rng.random()) for _ in range(n)]
    return [rng.randrange(1, 10) / 10 for _ in range(n)]


@pytest.mark.parametrize("n", [1, 7, 8, 9, 100, 1001])
@pytest.mark.parametrize("kind", ["continuous", "tenths"])
def test_every_way_draws_the_same_sign_flips(
    kind: str, n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    mags = _magnitudes(kind, n)
    fast = resampling.sign_flip_sums(mags, 300, random.Random(3))
    numpy, few = vectorised.numpy_module(), resampling._FEW_LEVELS
    monkeypatch.setattr(vectorised, "np", None)
    masks = resampling.sign_flip_sums(mags, 300, random.Random(3))
    monkeypatch.setattr(resampling, "_FEW_LEVELS", 0)
    monkeypatch.setattr(resampling, "_MAX_LEVELS", 0)
    loop = resampling.sign_flip_sums(mags, 300, random.Random(3))
    if numpy is not None and len(set(mags)) > few:
        assert fast == loop  # numpy: the loop's additions, in its order
    assert masks == pytest.approx(loop, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("n", [1, 2, 50, 1001])
def test_numpy_bootstrap_positions_are_what_random_choices_draws(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if vectorised.numpy_module() is None:
        pytest.skip("numpy is not installed")
    columns = [_magnitudes("continuous", n), _magnitudes("tenths", n)]
    fast_rng, loop_rng = random.Random(5), random.Random(5)
    fast = resampling.resampled_sums(columns, 200, fast_rng)
    monkeypatch.setattr(vectorised, "np", None)
    loop = resampling.resampled_sums(columns, 200, loop_rng)
    assert fast == loop
    assert fast_rng.random() == loop_rng.random()  # the generator is left in the same state


def test_permutation_p_value_is_the_same_on_every_path(monkeypatch: pytest.MonkeyPatch) -> None:
    diffs = [d - 0.5 for d in _magnitudes("tenths", 3000)]
    p = stats.paired_permutation_test(diffs, seed=4)
    monkeypatch.setattr(vectorised, "np", None)
    assert stats.paired_permutation_test(diffs, seed=4) == p
    monkeypatch.setattr(resampling, "_FEW_LEVELS", 0)
    monkeypatch.setattr(resampling, "_MAX_LEVELS", 0)
    assert stats.paired_permutation_test(diffs, seed=4) == p
