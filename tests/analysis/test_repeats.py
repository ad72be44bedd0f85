"""--repeat K: K attempts inside one item, reduced by a policy, with pass@k, pass^k and flaky rows."""

from __future__ import annotations

import pytest

ROWS = [{"id": v, "input": v, "expected": "yes"} for v in ("always", "never", "mostly", "rarely")]


def test_bad_repeat_policy_is_a_usage_error(project, qa):
    qa(ROWS)
    result = project.run(
        "--dataset=qa.jsonl", "--target=coin", "--repeat=2", "--repeat-policy=most"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: --repeat-policy: 'most' is not all, majority, any or rate:R*"]
    )


def _check_outcomes_repeats_and_summary(result, record, passed):
    """What a serial session with ``--scorer-reports=none`` shows (was test_repeat_policies)."""
    result.assert_outcomes(passed=len(passed), failed=4 - len(passed))
    assert {i.item_id for i in record.items if i.status == "passed"} == passed
    mostly = record.items[2]
    assert [r.passed for r in mostly.repeats] == [True, True, False, True]
    assert [r.output for r in mostly.repeats] == ["yes", "yes", "no", "yes"]
    assert mostly.scores[0].value == pytest.approx(0.75)
    assert mostly.attempts == 4
    assert record.repeats["pass@1"] == pytest.approx((4 + 0 + 3 + 1) / 16)
    assert record.repeats["pass@4"] == pytest.approx(3 / 4)
    assert record.repeats["pass^4"] == pytest.approx(1 / 4)
    assert record.repeats["flaky"] == ["mostly", "rarely"]
    result.stdout.fnmatch_lines(
        [
            "repeats: k=4, policy *: pass@1 0.500, pass@4 0.750, pass^4 0.250",
            "flaky rows (repeats disagree): mostly, rarely",
        ]
    )


_PASSING = {
    "all": {"always"},
    "majority": {"always", "mostly"},
    "any": {"always", "mostly", "rarely"},
    "rate:0.5": {"always", "mostly"},
}


# Every policy under every report mode in one process; under -n 2 (the rows run on workers, the
# controller gets their reports) every policy and every mode once, "failed" and "all" each beside
# a policy that passes a row with failing attempts.
_XDIST = [("majority", "all"), ("any", "failed"), ("rate:0.5", "all"), ("all", "none")]
_CASES = [
    pytest.param([], policy, reports, id=f"serial-{policy}-{reports}")
    for policy in _PASSING
    for reports in ("failed", "all", "none")
] + [
    pytest.param(["-n", "2"], policy, reports, id=f"xdist-{policy}-{reports}")
    for policy, reports in _XDIST
]


@pytest.mark.parametrize(("mode", "policy", "reports"), _CASES)
def test_repeat_policy_decides_under_every_scorer_report_mode(project, qa, mode, policy, reports):
    """Issue 10.1: a failing per-scorer subtest report never overrides the repeat policy."""
    passed = _PASSING[policy]
    qa(ROWS)
    args = ["--dataset=qa.jsonl", "--target=coin", "--scorer=exact_match>=1", "--repeat=4"]
    args += [f"--repeat-policy={policy}", f"--scorer-reports={reports}", *mode]
    rate = len(passed) / 4
    result = project.run(*args, f"--min-pass-rate={rate}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the "never" row fails under every policy
    record = project.last_run()
    if reports == "none" and not mode:
        _check_outcomes_repeats_and_summary(result, record, passed)
    assert {i.item_id for i in record.items if i.status == "passed"} == passed
    assert (record.counts.passed, record.counts.failed) == (len(passed), 4 - len(passed))
    (gate,) = record.gates
    assert gate.passed and gate.value == pytest.approx(rate)
    # Only the rows the policy passes: the session is green.
    qa([row for row in ROWS if row["id"] in passed])
    result = project.run(*args, "--min-pass-rate=1")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    record = project.last_run()
    assert record.counts.passed == len(passed) and record.exit_status == 0
    assert record.gates[0].passed


def test_pass_at_k_counts_errored_attempts_as_failures():
    """Issue 10.8: an attempt whose target raised is a failed attempt for pass@k and pass^k."""
    from pytest_datasetrun.analysis.repeats import repeat_summary
    from pytest_datasetrun.record.results import ItemResult, RepeatResult

    items = [
        ItemResult(item_id="a", repeats=[RepeatResult(passed=True), RepeatResult(error="boom")]),
        ItemResult(
            item_id="b",
            status="errored",
            error="TimeoutError",
            repeats=[RepeatResult(error="TimeoutError"), RepeatResult(error="TimeoutError")],
        ),
    ]
    summary = repeat_summary(items, 2, "any")
    assert summary["rows"] == 2
    assert summary["pass@1"] == pytest.approx((1 / 2 + 0) / 2)
    assert summary["pass@2"] == pytest.approx((1 + 0) / 2)
    assert summary["pass^2"] == 0.0
