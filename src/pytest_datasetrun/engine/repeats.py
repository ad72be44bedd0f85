"""A repeated row (``--repeat K``): its K attempts reduced to one result by the repeat policy."""

from __future__ import annotations

import statistics
from typing import Any

from pytest_datasetrun.engine.attempt import Attempt, attempt_status, describe, error_fields
from pytest_datasetrun.engine.scorer import Scorer
from pytest_datasetrun.record.results import RepeatResult, ScorerResult, jsonable

__all__ = ("REPEAT_POLICIES", "repeated_fields", "reduce_scorer", "policy_passes")

REPEAT_POLICIES = ("all", "majority", "any")


def repeated_fields(
    runs: list[Attempt], scorers: list[Scorer], policy: str, target_errors: str
) -> dict[str, Any]:
    """The repeats, the reduced scores and the status of a row evaluated more than once."""
    fields: dict[str, Any] = {}
    repeats = [
        RepeatResult(
            output=jsonable(run.output),
            error=describe(run.exception) if run.exception else None,
            scores=[score.as_dict() for score in run.scores],
            duration_s=run.duration,
            passed=attempt_status(run) == "passed",
            via=run.via,
        )
        for run in runs
    ]
    zero = target_errors != "exclude"
    scores = [reduce_scorer(scorer, runs, policy, zero) for scorer in scorers]
    errored = [run for run in runs if run.exception is not None]
    if len(errored) == len(runs):
        fields.update(error_fields(errored[0].exception))
        status = "errored"
    elif any(score.error for score in scores):
        status = "errored"
    else:
        verdicts = [repeat.passed for repeat in repeats]
        passes = policy_passes(policy, verdicts)
        status = "passed" if passes else "failed"
    return {**fields, "repeats": repeats, "scores": scores, "status": status}


def reduce_scorer(scorer: Scorer, runs: list[Attempt], policy: str, zero: bool) -> ScorerResult:
    """One scorer over K repeats: the mean value; passed by the repeat policy, not by the mean.

    A scorer passes a repeated row when its per-repeat verdicts satisfy ``--repeat-policy``
    (an attempt whose target or scorer failed counts as not passed), so a row the policy passes
    never has a failing scorer (issue 10.1). With ``zero``, an attempt whose target failed
    counts as 0 in the mean, as a target-errored row does in the aggregates (issue 10.2).
    """
    per_run = [next((s for s in run.scores if s.id == scorer.key), None) for run in runs]
    scored = [s for s in per_run if s is not None]
    failed = sum(run.exception is not None for run in runs) if zero else 0
    values = [s.value for s in scored if s.value is not None]
    if values and failed:
        values += [0.0] * failed
    errors = [s.error for s in scored if s.error]
    reduced = ScorerResult(
        id=scorer.key,
        name=scorer.name,
        threshold=scorer.threshold,
        duration_s=sum(s.duration_s for s in scored),
        metadata={"repeat_values": [s.value for s in scored], "repeats": len(runs)},
    )
    if values:
        reduced.value = statistics.fmean(values)
        reduced.reason = f"mean of {len(values)} repeats"
        if failed:
            reduced.reason += f" ({failed} whose target failed counted as 0)"
            reduced.metadata["target_errors"] = failed
        if scorer.threshold is not None:
            verdicts = [s is not None and s.passed is True for s in per_run]
            reduced.passed = policy_passes(policy, verdicts)
            reduced.metadata.update(repeats_passed=sum(verdicts), repeat_policy=policy)
            reduced.reason += f"; passed {sum(verdicts)} of {len(runs)} (policy {policy})"
    elif errors:
        reduced.error = errors[0]
    if errors and values:
        reduced.reason = f"mean of {len(values)} repeats; {len(errors)} errored: {errors[0]}"
    return reduced


def policy_passes(policy: str, verdicts: list[bool]) -> bool:
    passed = sum(verdicts)
    if policy == "all":
        return passed == len(verdicts)
    if policy == "any":
        return passed > 0
    if policy == "majority":
        return passed * 2 > len(verdicts)
    if policy.startswith("rate:"):
        return passed / len(verdicts) >= float(policy[5:])
    raise ValueError(f"unknown repeat policy {policy!r}")
