"""Unit tests of stats.py, checked against published values and (when installed) scipy."""

from __future__ import annotations

import math
import random
import statistics
from itertools import product

import pytest

from pytest_datasetrun.analysis import power, resampling, stats

# Student (1908) sleep data as in R's ``sleep``: extra hours of sleep under two drugs, same
# 10 patients. Differences drug 2 - drug 1. R's ``t.test(extra ~ group, paired = TRUE)``
# reports t = 4.0621, df = 9, p = 0.002833, 95% CI (0.7001, 2.4599), mean difference 1.58.
SLEEP_DIFFS = [1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]
SLEEP_T_CI = (0.7001142, 2.4598858)
SLEEP_T_P = 0.002833


# -- describe -----------------------------------------------------------------------------------


def test_describe_gives_sample_statistics() -> None:
    d = stats.describe([1, 2, 3, 4])
    assert (d.n, d.mean, d.min, d.max) == (4, 2.5, 1.0, 4.0)
    assert d.stdev == pytest.approx(statistics.stdev([1, 2, 3, 4]))


def test_describe_of_one_and_of_none() -> None:
    assert stats.describe([0.5]).stdev == 0.0
    assert stats.describe([]) == stats.Description(0, None, None, None, None)


# -- pass@k and pass^k --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (10, 3, 1, 0.3),  # pass@1 is c / n
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (10, 0, 5, 0.0),
        (10, 8, 3, 1.0),  # fewer than k failures: some draw of k always passes
        (200, 10, 100, 1 - math.comb(190, 100) / math.comb(200, 100)),
    ],
)
def test_pass_at_k_hand_values(n: int, c: int, k: int, expected: float) -> None:
    assert stats.pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_matches_the_codex_papers_stable_formula() -> None:
    """Chen et al. 2021 compute 1 - prod(1 - k / i for i in n-c+1..n); ours must agree."""
    for n, c, k in product(range(1, 25), range(25), range(1, 25)):
        if c <= n and k <= n:
            paper = (
                1.0 if n - c < k else 1.0 - math.prod(1 - k / i for i in range(n - c + 1, n + 1))
            )
            assert stats.pass_at_k(n, c, k) == pytest.approx(paper, abs=1e-9), (n, c, k)


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [(10, 7, 1, 0.7), (10, 7, 3, 35 / 120), (10, 2, 3, 0.0), (4, 4, 4, 1.0)],
)
def test_pass_hat_k_hand_values(n: int, c: int, k: int, expected: float) -> None:
    assert stats.pass_hat_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_hat_k_never_exceeds_pass_at_k() -> None:
    for c in range(11):
        for k in range(1, 11):
            assert stats.pass_hat_k(10, c, k) <= stats.pass_at_k(10, c, k) + 1e-12


@pytest.mark.parametrize(("n", "c", "k"), [(5, 6, 1), (5, -1, 1), (5, 2, 0), (5, 2, 6)])
def test_pass_at_k_rejects_inconsistent_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match="0 <= c <= n"):
        stats.pass_at_k(n, c, k)
    with pytest.raises(ValueError, match="0 <= c <= n"):
        stats.pass_hat_k(n, c, k)


# -- permutation test ---------------------------------------------------------------------------


def test_sign_flip_p_value_of_the_sleep_data_is_exact() -> None:
    """9 non-zero differences, all positive: only all-plus and all-minus reach |sum| = 15.8,
    so p = 2 / 2**9 = 4 / 1024 (a textbook exact permutation result)."""
    assert stats.paired_permutation_test(SLEEP_DIFFS) == 2 / 2**9


def test_sign_flip_p_value_is_close_to_the_paired_t_test() -> None:
    assert stats.paired_permutation_test(SLEEP_DIFFS) == pytest.approx(SLEEP_T_P, abs=0.002)


def test_exact_p_value_counts_every_sign_pattern() -> None:
    diffs = [0.5, -0.2, 0.3, 0.1, -0.4, 0.6]
    observed = abs(sum(diffs))
    hits = sum(
        abs(sum(s * d for s, d in zip(signs, diffs, strict=True))) >= observed - 1e-12
        for signs in product((1, -1), repeat=len(diffs))
    )
    assert stats.paired_permutation_test(diffs) == hits / 2 ** len(diffs)


def test_random_sign_flips_approach_the_exact_p_value() -> None:
    rng = random.Random(7)
    diffs = [rng.gauss(0.25, 1.0) for _ in range(18)]  # 18 > EXACT_MAX_N: sampled
    exact = _exact_sign_flip_p(diffs)
    sampled = stats.paired_permutation_test(diffs, n_resamples=20_000, seed=3)
    assert sampled == pytest.approx(exact, abs=0.012)  # 3.5 standard errors


def test_sampled_p_value_is_never_zero() -> None:
    p = stats.paired_permutation_test([1.0] * 100, n_resamples=999)
    assert p == 1 / 1000


def test_zero_differences_give_p_one_and_do_not_count() -> None:
    assert stats.paired_permutation_test([0.0] * 30) == 1.0
    assert stats.paired_permutation_test(
        [0.3, 0.2, 0.4, 0.0, 0.0]
    ) == stats.paired_permutation_test([0.3, 0.2, 0.4])


def test_permutation_test_is_symmetric_and_deterministic() -> None:
    rng = random.Random(1)
    diffs = [rng.choice([-1.0, 0.0, 1.0, 1.0]) for _ in range(300)]
    p = stats.paired_permutation_test(diffs, seed=5)
    assert p == stats.paired_permutation_test(diffs, seed=5)
    assert p == stats.paired_permutation_test([-d for d in diffs], seed=5)


def test_min_attainable_p() -> None:
    assert stats.min_attainable_p(5) == 2 / 32 > 0.05
    assert stats.min_attainable_p(6) == 2 / 64 < 0.05
    assert stats.min_attainable_p(1) == 1.0
    assert stats.min_attainable_p(5000) == 0.0  # no OverflowError from 2.0**5000


# -- bootstrap ----------------------------------------------------------------------------------


def test_bootstrap_ci_of_the_sleep_data_is_near_the_t_interval() -> None:
    for method in ("bca", "percentile"):
        low, high = stats.paired_bootstrap_ci(SLEEP_DIFFS, method=method, n_resamples=20_000)
        assert low < 1.58 < high
        assert low == pytest.approx(SLEEP_T_CI[0], abs=0.4)
        assert high == pytest.approx(SLEEP_T_CI[1], abs=0.25)


def test_bootstrap_ci_of_the_sleep_data_matches_scipys_values() -> None:
    """scipy.stats.bootstrap(..., n_resamples=1_000_000) gives percentile (0.95, 2.38) and BCa
    (1.05, 2.63); the data sit on a 0.01 lattice, so endpoints move in steps of 0.01."""
    low, high = stats.paired_bootstrap_ci(SLEEP_DIFFS, method="percentile", n_resamples=100_000)
    assert (low, high) == pytest.approx((0.955, 2.38), abs=0.015)
    low, high = stats.paired_bootstrap_ci(SLEEP_DIFFS, method="bca", n_resamples=100_000)
    assert (low, high) == pytest.approx((1.05, 2.63), abs=0.035)


def test_bootstrap_ci_of_binary_differences_matches_the_normal_interval() -> None:
    """Many pairs with three distinct differences take the multinomial path."""
    rng = random.Random(2)
    diffs = [float(rng.choice([-1, 0, 0, 1, 1])) for _ in range(2000)]
    mean, se = statistics.fmean(diffs), statistics.stdev(diffs) / math.sqrt(len(diffs))
    low, high = stats.paired_bootstrap_ci(diffs, method="percentile", n_resamples=4000)
    assert low == pytest.approx(mean - 1.96 * se, abs=0.15 * se)
    assert high == pytest.approx(mean + 1.96 * se, abs=0.15 * se)


def test_bootstrap_ci_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    rng = random.Random(11)
    covered = 0
    for seed in range(200):
        diffs = [rng.gauss(0.3, 1.0) for _ in range(30)]
        low, high = stats.paired_bootstrap_ci(diffs, n_resamples=500, seed=seed)
        covered += low <= 0.3 <= high
    assert 0.88 <= covered / 200 <= 0.99


def test_binomial_draws_have_the_right_mean_and_variance() -> None:
    rng = random.Random(4)
    draws = [resampling._binomial(rng, 50, resampling._digits(0.3)) for _ in range(20_000)]
    assert statistics.fmean(draws) == pytest.approx(15.0, abs=0.1)
    assert statistics.pvariance(draws) == pytest.approx(10.5, rel=0.05)
    assert resampling._binomial(rng, 9, resampling._digits(0.0)) == 0
    assert resampling._binomial(rng, 9, resampling._digits(1.0 - 2.0**-53)) == 9


def test_binary_digits_are_exact() -> None:
    assert resampling._digits(0.0) == []
    assert resampling._digits(0.625) == [True, False, True]
    for p in (0.3, 1 / 3, 2.0**-40, 1.0 - 2.0**-53):
        digits = resampling._digits(p)
        assert digits[-1] is True
        assert math.fsum(math.ldexp(1.0, -i) for i, d in enumerate(digits, 1) if d) == p


def test_bootstrap_ci_is_deterministic_and_degenerate_for_constant_data() -> None:
    rng = random.Random(5)
    diffs = [rng.random() - 0.5 for _ in range(100)]
    assert stats.paired_bootstrap_ci(diffs, seed=9) == stats.paired_bootstrap_ci(diffs, seed=9)
    assert stats.paired_bootstrap_ci(diffs, seed=9) != stats.paired_bootstrap_ci(diffs, seed=10)
    assert stats.paired_bootstrap_ci([0.25] * 7) == (0.25, 0.25)


def test_bootstrap_cis_of_several_columns_equal_one_call_per_column() -> None:
    rng = random.Random(6)
    columns = [
        [rng.random() - 0.4 for _ in range(300)],  # continuous: shared draws
        [rng.gauss(0.0, 1.0) for _ in range(300)],  # continuous, same length
        [float(rng.choice([-1, 0, 1])) for _ in range(300)],  # few values: multinomial
        [rng.random() for _ in range(40)],  # another length
        [0.5] * 12,  # constant
    ]
    together = stats.paired_bootstrap_cis(columns, 0.9, n_resamples=500, seed=2)
    alone = [stats.paired_bootstrap_ci(c, 0.9, n_resamples=500, seed=2) for c in columns]
    assert together == alone
    assert len(set(together)) == len(columns)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"diffs": []}, "at least one"),
        ({"diffs": [1.0, math.nan]}, "finite"),
        ({"diffs": [1.0, 2.0], "confidence": 1.0}, "confidence"),
        ({"diffs": [1.0, 2.0], "n_resamples": 0}, "n_resamples"),
        ({"diffs": [1.0, 2.0], "method": "bc"}, "method"),
    ],
)
def test_bootstrap_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        stats.paired_bootstrap_ci(**kwargs)  # type: ignore[arg-type]


# -- minimum detectable effect ------------------------------------------------------------------


def test_mde_follows_the_paired_sample_size_formula() -> None:
    """n = (z[0.975] + z[0.8])**2 * sd**2 / mde**2 = 7.849 sd**2 / mde**2 (Lehr's 7.85)."""
    assert stats.minimum_detectable_effect(1.0, n=100) == pytest.approx(0.2801585, abs=1e-6)
    # the classic "32 pairs detect half a standard deviation" (31.4 rounded up)
    assert stats.minimum_detectable_effect(2.0, n=32) == pytest.approx(2 * 0.4952546, abs=1e-6)


def test_mde_from_differences_uses_their_standard_deviation() -> None:
    sd = statistics.stdev(SLEEP_DIFFS)
    expected = 2.8015852 * sd / math.sqrt(10)
    assert stats.minimum_detectable_effect(SLEEP_DIFFS) == pytest.approx(expected, rel=1e-6)
    assert stats.minimum_detectable_effect(SLEEP_DIFFS, alpha=0.01, power=0.9) > expected
    assert stats.minimum_detectable_effect([0.5]) == math.inf


def test_mde_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n is required"):
        stats.minimum_detectable_effect(1.0)
    with pytest.raises(ValueError, match="alpha and power"):
        stats.minimum_detectable_effect(1.0, n=10, power=1.0)
    with pytest.raises(ValueError, match=">= 1"):
        stats.minimum_detectable_effect(1.0, n=0)


# -- scipy cross-checks -------------------------------------------------------------------------


def test_exact_p_value_matches_scipy() -> None:
    np = pytest.importorskip("numpy")
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = random.Random(8)
    diffs = [round(rng.gauss(0.2, 1.0), 3) for _ in range(14)]
    result = scipy_stats.permutation_test(
        (np.array(diffs),), np.mean, permutation_type="samples", n_resamples=np.inf
    )
    assert stats.paired_permutation_test(diffs) == pytest.approx(result.pvalue, abs=1e-12)


def test_bca_interval_matches_scipy() -> None:
    np = pytest.importorskip("numpy")
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = random.Random(9)
    diffs = [rng.expovariate(2.0) - 0.3 for _ in range(40)]  # skewed: BCa differs from percentile
    ours = stats.paired_bootstrap_ci(diffs, n_resamples=20_000)
    theirs = scipy_stats.bootstrap(
        (np.array(diffs),), np.mean, method="BCa", n_resamples=20_000, random_state=0
    ).confidence_interval
    assert ours == pytest.approx((theirs.low, theirs.high), abs=0.01)


def _exact_sign_flip_p(diffs: list[float]) -> float:
    """Brute force: enumerate the subset sums of |d| by doubling (independent of stats.py)."""
    magnitudes = [abs(d) for d in diffs if d]
    total, observed = sum(magnitudes), abs(sum(diffs))
    sums = [0.0]
    for m in magnitudes:
        sums = sums + [s + m for s in sums]
    return sum(abs(total - 2 * s) >= observed - 1e-9 for s in sums) / len(sums)


@pytest.mark.parametrize("n", [1, 7, 400, 4312])
def test_beta_tail_terms_are_the_binomial_pmf(n: int) -> None:
    rng = random.Random(n)
    for x in [rng.random() for _ in range(20)] + [1e-300, 0.5, 1.0 - 2.0**-53]:
        k = rng.randrange(n + 1)
        terms = list(power._upper_terms(n, k, x))
        want = [power._binom_pmf(n, j, x, 1.0 - x) for j in range(k, n + 1)]
        assert sorted(t for t in terms if t) == sorted(t for t in want if t)
