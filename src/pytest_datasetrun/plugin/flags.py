"""The plugin's command-line options and ini keys: registration only (read by :mod:`.options`)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_datasetrun.plugin.reading import add_reading_options

__all__ = ("CORRECTIONS", "DEFAULT_STORE", "SCORER_REPORTS", "TARGET_ERRORS", "add_options")

SCORER_REPORTS = ("failed", "all", "none")

DEFAULT_STORE = ".datasetrun/runs.json"

TARGET_ERRORS = ("zero", "exclude")
CORRECTIONS = ("holm", "none")


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
    add_reading_options(group.addoption, parser.addini)

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
