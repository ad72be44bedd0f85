"""The numpy resampling adds and draws exactly as the pure loops do, in every batch shape."""

from __future__ import annotations

import random

import pytest

from pytest_datasetrun.analysis import resampling, vectorised


@pytest.fixture
def np() -> object:
    numpy = vectorised.numpy_module()
    if numpy is None:
        pytest.skip("numpy is not installed")
    return numpy


def _left_to_right(values: list[float]) -> float:
    total = 0.0
    for value in values:
        total += value
    return total


@pytest.mark.parametrize("columns", [1, 2, 5])
@pytest.mark.parametrize("n", [1, 9, 100, 1001])
def test_column_sums_add_top_to_bottom(np: object, n: int, columns: int) -> None:
    rng = random.Random(n * columns)
    rows = [[rng.random() * 10 ** rng.randrange(-3, 4) for _ in range(columns)] for _ in range(n)]
    want = [_left_to_right([row[j] for row in rows]) for j in range(columns)]
    assert vectorised._down_columns(vectorised.np.array(rows)) == want


def _columns(n: int) -> list[list[float]]:
    rng = random.Random(n)
    return [[rng.random() for _ in range(n)], [rng.randrange(11) / 10 for _ in range(n)]]


@pytest.mark.parametrize(("n", "batch_items"), [(1, 3), (7, 20), (50, 49), (1001, 3000)])
def test_bootstrap_batches_of_any_size_draw_what_the_loop_draws(
    np: object, n: int, batch_items: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectorised, "_BATCH", batch_items)  # a last batch of one resample
    fast_rng, loop_rng = random.Random(9), random.Random(9)
    fast = resampling.resampled_sums(_columns(n), 7, fast_rng)
    monkeypatch.setattr(vectorised, "np", None)
    assert fast == resampling.resampled_sums(_columns(n), 7, loop_rng)
    assert fast_rng.getstate() == loop_rng.getstate()


@pytest.mark.parametrize(("n", "batch_items"), [(17, 3), (32, 4), (100, 20), (1001, 300)])
def test_sign_flip_batches_of_any_size_draw_what_the_loop_draws(
    np: object, n: int, batch_items: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    magnitudes = _columns(n)[0]
    monkeypatch.setattr(vectorised, "_BATCH", batch_items)
    fast_rng, loop_rng = random.Random(4), random.Random(4)
    fast = resampling.sign_flip_sums(magnitudes, 7, fast_rng)
    monkeypatch.setattr(vectorised, "np", None)
    monkeypatch.setattr(resampling, "_MAX_LEVELS", 0)  # the per-byte table loop
    assert fast == resampling.sign_flip_sums(magnitudes, 7, loop_rng)
    assert fast_rng.getstate() == loop_rng.getstate()
