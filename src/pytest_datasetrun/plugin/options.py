"""Command-line and ini options, parsed once into a frozen :class:`Options`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_datasetrun.plugin.flags import CORRECTIONS, SCORER_REPORTS, TARGET_ERRORS, add_options
from pytest_datasetrun.plugin.reading import reading_settings
from pytest_datasetrun.plugin.values import (
    check_choice,
    check_policy,
    number,
    seconds,
    significance,
)

__all__ = ("Options", "add_options", "read_options", "dataset_paths", "SCORER_REPORTS")


def dataset_paths(config: pytest.Config) -> list[Path]:
    """The datasets asked for, resolved: ``--dataset`` against the invocation dir, ini against its file."""
    given = config.getoption("dataset") or []
    if config.getoption("no_datasets", False) and not given:
        return []
    if given:
        base = config.invocation_params.dir
        return [_resolve(base / os.path.expanduser(p)) for p in given]
    return [_resolve(Path(p)) for p in config.getini("datasetrun_datasets")]


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: the loader reports it for the file
        return Path(os.path.abspath(path))


@dataclass(frozen=True)
class Options:
    datasets: tuple[Path, ...]
    target: str
    scorers: tuple[str, ...]
    scorer_reports: str
    max_concurrency: int
    item_timeout: float | None
    max_retries: int
    retry_on: tuple[str, ...]
    repeat: int
    repeat_policy: str
    store: Path | None
    store_path: Path
    run_name: str | None
    fail_under: tuple[str, ...]
    min_pass_rate: str | None
    max_errors: str | None
    baseline: str | None
    max_regression: tuple[str, ...]
    significance: float
    trust_dataset_imports: bool = False
    target_errors: str = "zero"
    regression_correction: str = "holm"
    # Where each value came from ("--max-concurrency" or "datasetrun_max_concurrency"), for errors.
    labels: dict[str, str] = field(default_factory=dict, compare=False)

    def label(self, name: str) -> str:
        """How to name option ``name`` in a message: its flag, or its ini key when the ini set it."""
        return self.labels.get(name, "--" + name.replace("_", "-"))

    dataset_settings: Any = None  # a data.settings.LoadSettings

    def recorded(self) -> dict[str, Any]:
        """The options that change results, as stored with the run."""
        return {
            "target": self.target,
            "scorers": list(self.scorers),
            "max_concurrency": self.max_concurrency,
            "item_timeout": self.item_timeout,
            "max_retries": self.max_retries,
            "retry_on": list(self.retry_on),
            "repeat": self.repeat,
            "repeat_policy": self.repeat_policy,
            "target_errors": self.target_errors,
        }


def read_options(config: pytest.Config) -> Options:
    """Merge command line over ini; raise ``pytest.UsageError`` naming a bad value.

    A bad value is named the way the user gave it: ``--max-concurrency`` for the command line,
    ``datasetrun_max_concurrency`` for the ini file.
    """
    opt = config.getoption

    def ini(name: str) -> Any:
        try:
            return config.getini(name)
        except (TypeError, ValueError, pytest.UsageError) as exc:
            where = config.inipath or "the ini file"
            raise pytest.UsageError(f"{where}: {name}: {exc}") from None

    labels: dict[str, str] = {}

    def picked(name: str, ini_name: str) -> tuple[Any, str]:
        value = opt(name)
        if value not in (None, [], ""):
            labels[name] = "--" + name.replace("_", "-")
            return value, labels[name]
        labels[name] = ini_name
        return ini(ini_name), ini_name

    def pick(name: str, ini_name: str) -> Any:
        return picked(name, ini_name)[0]

    from pytest_datasetrun.store.location import resolve_store

    store_path = resolve_store(
        opt("run_store"),
        ini_value=str(ini("datasetrun_store") or "") or None,
        rootdir=config.rootpath,
        cwd=config.invocation_params.dir,
    )
    policy, policy_label = picked("repeat_policy", "datasetrun_repeat_policy")
    policy = str(policy or "all")
    check_policy(policy, policy_label)
    reports, reports_label = picked("scorer_reports", "datasetrun_scorer_reports")
    check_choice(str(reports or "failed"), reports_label, SCORER_REPORTS)
    return Options(
        datasets=tuple(dataset_paths(config)),
        target=str(pick("target", "datasetrun_target") or ""),
        scorers=tuple(pick("scorer", "datasetrun_scorers")),
        scorer_reports=str(reports or "failed"),
        max_concurrency=number(*picked("max_concurrency", "datasetrun_max_concurrency"), int, 1),
        item_timeout=seconds(*picked("item_timeout", "datasetrun_item_timeout")),
        max_retries=number(*picked("max_retries", "datasetrun_max_retries"), int, 0),
        retry_on=tuple(pick("retry_on", "datasetrun_retry_on")),
        repeat=number(*picked("repeat", "datasetrun_repeat"), int, 1),
        repeat_policy=policy,
        store=None if opt("no_run_store") else store_path,
        store_path=store_path,
        run_name=opt("run_name"),
        fail_under=tuple(pick("fail_under", "datasetrun_fail_under")),
        min_pass_rate=str(pick("min_pass_rate", "datasetrun_min_pass_rate") or "") or None,
        max_errors=str(pick("max_errors", "datasetrun_max_errors") or "") or None,
        baseline=str(pick("baseline", "datasetrun_baseline") or "") or None,
        max_regression=tuple(pick("max_regression", "datasetrun_max_regression")),
        significance=significance(*picked("significance", "datasetrun_significance")),
        trust_dataset_imports=_trust(config),
        target_errors=_choice(*picked("target_errors", "datasetrun_target_errors"), TARGET_ERRORS),
        regression_correction=_choice(
            *picked("regression_correction", "datasetrun_regression_correction"), CORRECTIONS
        ),
        labels=labels,
        dataset_settings=reading_settings(picked),
    )


def _choice(raw: Any, label: str, allowed: tuple[str, ...]) -> str:
    value = str(raw or allowed[0]).strip()
    check_choice(value, label, allowed)
    return value


def _trust(config: pytest.Config) -> bool:
    if config.getoption("trust_dataset_imports"):
        return True
    try:
        return bool(config.getini("datasetrun_trust_dataset_imports"))
    except (ValueError, pytest.UsageError) as exc:  # pytest 9.2 raises UsageError, older ValueError
        raise pytest.UsageError(
            f"datasetrun_trust_dataset_imports: {exc}; use true or false"
        ) from None
