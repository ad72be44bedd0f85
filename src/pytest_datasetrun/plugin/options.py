"""Command-line and ini options, parsed once into a frozen :class:`Options`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_datasetrun.plugin.values import (
    check_choice,
    check_policy,
    number,
    seconds,
    significance,
)

__all__ = ("Options", "add_options", "read_options", "dataset_paths", "SCORER_REPORTS")

SCORER_REPORTS = ("failed", "all", "none")

DEFAULT_STORE = ".datasetrun/runs.json"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("datasetrun", "dataset evaluation (pytest-datasetrun)")
    add = group.addoption
    add(
        "--dataset",
        action="append",
        default=[],
        metavar="PATH",
        help="run every row of this dataset (.json, .jsonl, .csv, .yaml) as a test item; repeatable.",
    )
    add(
        "--no-datasets",
        action="store_true",
        default=False,
        help="ignore datasetrun_datasets from the ini file: run only the ordinary tests.",
    )
    add(
        "--target",
        metavar="REF",
        help="the target to evaluate: a registered id or name, or module:attr.",
    )
    add(
        "--scorer",
        action="append",
        default=[],
        metavar="SPEC",
        help="a scorer to apply: [alias=]name[(param=value,...)][>=threshold]; repeatable.",
    )
    add(
        "--scorer-reports",
        choices=SCORER_REPORTS,
        default=None,
        help="which scorers also get their own pytest subtest report: failed (default), all, none.",
    )
    add(
        "--max-concurrency",
        type=int,
        default=None,
        metavar="N",
        help="evaluate up to N items at once in each process (IO-bound targets). Default 1.",
    )
    add(
        "--item-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="bound every target call; a timeout is a target error.",
    )
    add(
        "--max-retries",
        type=int,
        default=None,
        metavar="N",
        help="retry a failing target call up to N times with exponential backoff and jitter.",
    )
    add(
        "--retry-on",
        action="append",
        default=[],
        metavar="EXC",
        help="also retry these exception class names (transient errors, such as rate limits, "
        "timeouts, 5xx and lost connections, are always retried); repeatable.",
    )
    add(
        "--repeat",
        type=int,
        default=None,
        metavar="K",
        help="run each row K times inside its item and reduce the scores (mean).",
    )
    add(
        "--repeat-policy",
        default=None,
        metavar="POLICY",
        help="when a repeated item passes: all (default), majority, any, or rate:R.",
    )
    add(
        "--run-store",
        metavar="PATH",
        default=None,
        help=f"the TinyDB file runs are written to (default {DEFAULT_STORE} under the rootdir).",
    )
    add("--no-run-store", action="store_true", default=False, help="do not write the run.")
    add(
        "--report-md",
        metavar="PATH",
        default=None,
        help="write a Markdown report of the run (also appended to $GITHUB_STEP_SUMMARY when set).",
    )
    add(
        "--report-html",
        metavar="PATH",
        default=None,
        help="write a self-contained HTML report of the run (needs the 'html' extra: jinja2).",
    )
    add(
        "--run-name", metavar="NAME", default=None, help="a name for this run (default: generated)."
    )
    add(
        "--fail-under",
        action="append",
        default=[],
        metavar="SCORER=MIN",
        help="fail the session when the mean of SCORER is below MIN; repeatable.",
    )
    add(
        "--min-pass-rate",
        default=None,
        metavar="R",
        help="fail the session when under R of the items pass.",
    )
    add(
        "--max-errors",
        default=None,
        metavar="N|N%",
        help="fail the session on more than N (or N%%) errored items.",
    )
    add(
        "--baseline",
        default=None,
        metavar="RUN",
        help="compare with a stored run (id, name, latest, or a file).",
    )
    add(
        "--max-regression",
        action="append",
        default=[],
        metavar="[SCORER=]DELTA",
        help="fail on a significant drop larger than DELTA versus --baseline; repeatable.",
    )
    add(
        "--significance",
        type=float,
        default=None,
        metavar="ALPHA",
        help="significance level (default 0.05).",
    )
    add(
        "--trust-dataset-imports",
        action="store_true",
        default=False,
        help="let dataset files name scorers (and scorer params such as model=) by module:attr "
        "import path; without it a dataset may only name registered or built-in scorers.",
    )
    add(
        "--target-errors",
        choices=TARGET_ERRORS,
        default=None,
        help="a row whose target failed counts as 0 for every scorer in means, gates and "
        "comparisons (zero, the default) or is left out (exclude).",
    )
    add(
        "--regression-correction",
        choices=CORRECTIONS,
        default=None,
        help="control the family-wise error across the scorers of a comparison "
        "(holm, the default) or test each scorer alone (none).",
    )
    _add_reading_options(group.addoption, parser.addini)

    ini = parser.addini
    ini(
        "datasetrun_datasets",
        "dataset files to run (paths relative to the ini file).",
        type="paths",
        default=[],
    )
    ini("datasetrun_target", "the target to evaluate.", default="")
    ini("datasetrun_scorers", "scorer specs, one per line.", type="linelist", default=[])
    ini("datasetrun_scorer_reports", "failed, all or none.", default="failed")
    add_number = _number_ini(parser)
    add_number("datasetrun_max_concurrency", "items evaluated at once per process.", int, "1")
    add_number("datasetrun_item_timeout", "seconds a target call may take.", float, "")
    add_number("datasetrun_max_retries", "retries of a failing target call.", int, "0")
    ini(
        "datasetrun_retry_on",
        "exception names to retry besides transient errors, one per line.",
        type="linelist",
        default=[],
    )
    add_number("datasetrun_repeat", "repeats per row.", int, "1")
    ini("datasetrun_repeat_policy", "all, majority, any or rate:R.", default="all")
    ini(
        "datasetrun_store",
        f"run store path, relative to the rootdir (default {DEFAULT_STORE}).",
        default="",
    )
    ini("datasetrun_fail_under", "SCORER=MIN gates, one per line.", type="linelist", default=[])
    add_number("datasetrun_min_pass_rate", "minimum share of passing items.", float, "")
    add_number("datasetrun_max_errors", "maximum errored items, N or N%.", int, "")
    ini("datasetrun_baseline", "baseline run reference.", default="")
    ini(
        "datasetrun_max_regression",
        "[SCORER=]DELTA limits, one per line.",
        type="linelist",
        default=[],
    )
    add_number("datasetrun_significance", "significance level.", float, "0.05")
    ini(
        "datasetrun_trust_dataset_imports",
        "let dataset files name code by module:attr import path (true/false).",
        type="bool",
        default=False,
    )
    ini("datasetrun_target_errors", "zero or exclude.", default="zero")
    ini("datasetrun_regression_correction", "holm or none.", default="holm")
    ini(
        "datasetrun_junit_properties",
        "write each row's scores as <property> elements of its JUnit testcase.",
        type="bool",
        default=True,
    )


def _number_ini(parser: pytest.Parser) -> Any:
    """``addini`` for a number: a TOML number in pytest 9's ``[tool.pytest]``, else a string.

    ``str | int`` (pytest >= 9.2) keeps an ini-file value the string it was, so a bad one is
    reported as written; older pytest takes strings only.
    """

    def add(name: str, help: str, kind: type, default: str) -> None:
        try:
            parser.addini(name, help, type=str | kind, default=default)
        except (TypeError, ValueError):  # pragma: no cover - pytest < 9.2
            parser.addini(name, help, default=default)

    return add


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
        dataset_settings=_reading_settings(picked),
    )


TARGET_ERRORS = ("zero", "exclude")
CORRECTIONS = ("holm", "none")


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


# How dataset files are read (issue 12): field mapping, format or importer, encoding, JSON cells.
_READING = (
    (
        "fields",
        "FIELD=PATH,...",
        "map row fields to the file's own columns by dotted paths, e.g. "
        "input=question,expected=answers.text; unmapped columns go to metadata.",
    ),
    (
        "format",
        "NAME",
        "read every dataset as this file kind (json, jsonl, csv, yaml, parquet, "
        "arrow, hf-disk) or importer shape (native, openai-evals, promptfoo, deepeval, langsmith).",
    ),
    ("encoding", "CODEC", "the text encoding of dataset files (default utf-8), e.g. cp1252."),
    ("json_cells", "COLUMNS", "CSV columns whose cells hold JSON, e.g. input,expected."),
)


def _add_reading_options(add: Any, ini: Any) -> None:
    for name, metavar, text in _READING:
        flag = "--dataset-" + name.replace("_", "-")
        add(flag, dest=f"dataset_{name}", default=None, metavar=metavar, help=text)
        ini(f"datasetrun_dataset_{name}", text, default="")


def _reading_settings(picked: Any) -> Any:
    from pytest_datasetrun.data.settings import LoadSettings
    from pytest_datasetrun.errors import ConfigError

    values: dict[str, str] = {}
    message_names: dict[str, str] = {}
    for name, _, _ in _READING:
        value, label = picked(f"dataset_{name}", f"datasetrun_dataset_{name}")
        values[name] = str(value or "")
        message_names["--dataset-" + name.replace("_", "-")] = label
    try:
        return LoadSettings.from_options(**values)
    except ConfigError as exc:
        flag, _, rest = str(exc).partition(":")  # named the way the user gave it
        raise pytest.UsageError(f"datasetrun: {message_names.get(flag, flag)}:{rest}") from None
