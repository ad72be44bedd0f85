"""Compare a candidate run with a baseline, item by item.

Items are paired by item id. For every scorer present in both runs the paired values are
tested (:mod:`pytest_datasetrun.analysis.scorecompare`: exact McNemar for 0/1 scores, sign-flip
permutation otherwise, Holm-corrected across the scorers); a scorer *regresses* when its mean
drops by more than the allowed delta **and** the corrected drop is significant. Per item,
verdict flips (passed -> failed, ...) and added or removed items are listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, computed_field

from pytest_datasetrun.analysis.correction import CORRECTIONS
from pytest_datasetrun.analysis.gates import split_values
from pytest_datasetrun.analysis.pairing import Pairs, RunRows
from pytest_datasetrun.analysis.scorecompare import (
    ScorerComparison,
    Settings,
    compare_scorers,
)
from pytest_datasetrun.errors import ConfigError
from pytest_datasetrun.record.run import RunRecord
from pytest_datasetrun.record.values import TARGET_ERRORS

__all__ = (
    "Comparison",
    "RunRows",
    "ScorerComparison",
    "compare_rows",
    "compare_runs",
    "parse_max_regression",
)

MaxRegression = Mapping[str, float] | float | None
_DEFAULT_KEY = "*"  # in a max-regression mapping: the delta of every scorer not named


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Comparison(_Model):
    """The comparison of a candidate run with its baseline (JSON-safe via ``model_dump``)."""

    base_run: str
    cand_run: str
    base_name: str = ""
    cand_name: str = ""
    significance: float = 0.05
    confidence: float = 0.95
    seed: int = 0
    method: str = (
        "exact McNemar test and its inverted interval for 0/1 scores; sign-flip permutation "
        "test and BCa bootstrap interval otherwise"
    )
    target_errors: str = "zero"
    correction: str = "holm"
    shared: int = 0
    scorers: list[ScorerComparison] = Field(default_factory=list)
    newly_failed: list[str] = Field(default_factory=list)
    newly_passed: list[str] = Field(default_factory=list)
    new_errors: list[str] = Field(default_factory=list)
    fixed_errors: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    added: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def regressed(self) -> bool:
        """Whether any scorer regressed significantly beyond its allowed delta."""
        return any(s.regression for s in self.scorers)


def compare_runs(
    base: RunRecord,
    cand: RunRecord,
    *,
    max_regression: MaxRegression = None,
    significance: float = 0.05,
    confidence: float = 0.95,
    seed: int = 0,
    target_errors: str = "zero",
    correction: str = "holm",
) -> Comparison:
    """Compare ``cand`` with ``base`` item by item.

    :param base: the baseline run, with items.
    :param cand: the candidate run, with items.
    :param max_regression: the drop in mean score tolerated before a significant drop counts
        as a regression: one delta for every scorer, or scorer id/name -> delta (the key
        ``"*"`` sets the delta of the others). Default 0: any significant drop regresses.
    :param significance: a p-value below this is significant.
    :param confidence: the coverage of the confidence intervals.
    :param seed: the seed of the resampling; the same runs and seed give the same result.
    :param target_errors: a row whose target failed counts as 0 for every scorer (``"zero"``)
        or is left out (``"exclude"``); a scorer that raised is always left out.
    :param correction: ``"holm"`` controls the family-wise error across the scorers (Holm–
        Bonferroni); ``"none"`` tests each scorer alone at ``significance``.
    :returns: the :class:`Comparison`.
    :raises ConfigError: ``significance``, ``confidence``, a delta or a choice out of range.
    """
    return compare_rows(
        base, RunRows.of(base), cand, RunRows.of(cand), max_regression=max_regression,
        significance=significance, confidence=confidence, seed=seed,
        target_errors=target_errors, correction=correction,
    )  # fmt: skip


def compare_rows(
    base: RunRecord,
    base_rows: RunRows,
    cand: RunRecord,
    cand_rows: RunRows,
    *,
    max_regression: MaxRegression = None,
    significance: float = 0.05,
    confidence: float = 0.95,
    seed: int = 0,
    target_errors: str = "zero",
    correction: str = "holm",
) -> Comparison:
    """:func:`compare_runs` of two runs whose items were read into :class:`RunRows`.

    ``base`` and ``cand`` give the run summaries (their ``items`` are not read), the rows their
    items, one at a time: a stored run's items file need not be held in memory.

    :returns: the :class:`Comparison`, the one :func:`compare_runs` gives for the same items.
    :raises ConfigError: as for :func:`compare_runs`.
    """
    _check_settings(significance, confidence, max_regression)
    _check_choice("target_errors", target_errors, TARGET_ERRORS)
    _check_choice("correction", correction, CORRECTIONS)
    pairs = Pairs(base_rows, cand_rows)
    comparison = Comparison(
        base_run=base.run_id, cand_run=cand.run_id, base_name=base.name, cand_name=cand.name,
        significance=significance, confidence=confidence, seed=seed, shared=len(pairs),
        target_errors=target_errors, correction=correction,
        removed=[item_id for item_id in base_rows.rows if item_id not in cand_rows.rows],
        added=[item_id for item_id in cand_rows.rows if item_id not in base_rows.rows],
    )  # fmt: skip
    comparison.warnings = _run_warnings(base, cand, base_rows, cand_rows)
    _add_flips(comparison, pairs)
    names = _scorer_names(base_rows, cand_rows, comparison.warnings)
    deltas = _deltas(names, max_regression, comparison.warnings)
    settings = Settings(
        significance=significance, confidence=confidence, seed=seed,
        target_errors=target_errors, correction=correction,
    )  # fmt: skip
    comparison.scorers = compare_scorers(names, deltas, pairs, settings)
    return comparison


def parse_max_regression(
    values: Iterable[str] | str | None,
) -> dict[str, float] | float | None:
    """Parse ``--max-regression`` values: ``SCORER=DELTA`` or a bare ``DELTA`` for every scorer.

    :param values: the option's values; each may hold several, comma-separated.
    :returns: ``None`` when empty, a float when only a bare delta is given, else a mapping
        (a bare delta then sits under the key ``"*"``).
    :raises ConfigError: a value that is not a number in ``[0, 1]`` or names a scorer twice.
    """
    deltas: dict[str, float] = {}
    for value in split_values(values):
        scorer, sep, number = value.rpartition("=")
        key = scorer.strip() if sep else _DEFAULT_KEY
        if sep and not key:
            raise ConfigError(f"--max-regression: {value!r} names no scorer; use SCORER=DELTA")
        if key in deltas:
            what = "a bare DELTA" if key == _DEFAULT_KEY else f"scorer '{key}'"
            raise ConfigError(f"--max-regression: {what} is given twice ({value!r})")
        deltas[key] = _delta(number, value)
    if not deltas:
        return None
    return deltas[_DEFAULT_KEY] if list(deltas) == [_DEFAULT_KEY] else deltas


# -- pairing ------------------------------------------------------------------------------------


def _run_warnings(
    base: RunRecord, cand: RunRecord, base_rows: RunRows, cand_rows: RunRows
) -> list[str]:
    warnings = []
    base_data = sorted((d.name, d.sha256) for d in base.datasets)
    cand_data = sorted((d.name, d.sha256) for d in cand.datasets)
    if base_data != cand_data:
        warnings.append(
            f"the runs used different dataset files ({_datasets(base_data)} vs "
            f"{_datasets(cand_data)}): items are paired by id, and a row may have changed"
        )
    for record, rows, which in (
        (base, base_rows, "base"),
        (cand, cand_rows, "candidate"),
    ):
        if record.status == "partial":
            warnings.append(f"the {which} run {record.run_id} is partial (interrupted)")
        if len(rows.rows) < rows.items:
            dropped = rows.items - len(rows.rows)
            warnings.append(
                f"the {which} run repeats item ids ({dropped} duplicates); "
                "the last item with each id is compared"
            )
    if not any(item_id in cand_rows.rows for item_id in base_rows.rows):
        warnings.append("no item id is in both runs: nothing to compare")
    return warnings


def _datasets(data: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{name} sha256 {sha[:12]}" for name, sha in data) or "no dataset"


def _add_flips(comparison: Comparison, pairs: Pairs) -> None:
    for item_id, (base, cand) in zip(pairs.ids, pairs.rows, strict=True):
        before, after = pairs.base.verdict(base), pairs.cand.verdict(cand)
        if before == "passed" and after == "failed":
            comparison.newly_failed.append(item_id)
        elif before == "failed" and after == "passed":
            comparison.newly_passed.append(item_id)
        if after == "errored" and before != "errored":
            comparison.new_errors.append(item_id)
        elif before == "errored" and after in ("passed", "failed"):
            comparison.fixed_errors.append(item_id)


def _scorer_names(base: RunRows, cand: RunRows, warnings: list[str]) -> dict[str, str]:
    """Scorer id -> name for the scorers present in both runs, in the base run's order."""
    for names, other, which in (
        (base.names, cand.names, "base"),
        (cand.names, base.names, "candidate"),
    ):
        for sid in names:
            if sid not in other:
                warnings.append(f"scorer '{names[sid]}' ran only in the {which} run: not compared")
    return {sid: name for sid, name in base.names.items() if sid in cand.names}


def _deltas(
    names: Mapping[str, str], max_regression: MaxRegression, warnings: list[str]
) -> dict[str, float]:
    if max_regression is None or isinstance(max_regression, (int, float)):
        return dict.fromkeys(names, float(max_regression or 0.0))
    known = set(names) | set(names.values()) | {_DEFAULT_KEY}
    for key in max_regression:
        if key not in known:
            warnings.append(f"max-regression names scorer '{key}', which is not in both runs")
    default = max_regression.get(_DEFAULT_KEY, 0.0)
    return {
        sid: max_regression.get(sid, max_regression.get(name, default))
        for sid, name in names.items()
    }


def _check_settings(significance: float, confidence: float, max_regression: MaxRegression) -> None:
    if not 0.0 < significance < 1.0:
        raise ConfigError(f"the significance must be between 0 and 1, got {significance}")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"the confidence must be between 0 and 1, got {confidence}")
    if max_regression is None:
        return
    deltas = (
        [max_regression] if isinstance(max_regression, (int, float)) else max_regression.values()
    )
    for delta in deltas:
        if not 0.0 <= delta <= 1.0:
            raise ConfigError(f"a max-regression delta must be between 0 and 1, got {delta}")


def _check_choice(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def _delta(text: str, value: str) -> float:
    try:
        delta = float(text)
    except ValueError:
        raise ConfigError(
            f"--max-regression: {value!r} is not SCORER=DELTA or DELTA with a number DELTA"
        ) from None
    if not 0.0 <= delta <= 1.0:
        raise ConfigError(f"--max-regression: {value!r} is out of range; DELTA must be in [0, 1]")
    return delta
