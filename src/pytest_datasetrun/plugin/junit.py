"""JUnit XML for dataset rows: each row's scores as properties, one verdict per row, gate testcases.

pytest's junitxml counts every scorer subtest report as a test and writes each failing one as a
``<failure>`` of the row's testcase. Once pytest has written the file, :func:`rewrite` keeps one
verdict per row: it drops the scorer failures (the row's own failure lists them), turns an errored
row's failure into an ``<error>``, and corrects the suite's counts by what it changed.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_datasetrun.record.light import ResultRow
    from pytest_datasetrun.record.results import ItemResult

__all__ = ("STATUS_PROPERTY", "row_properties", "rewrite", "Rewritten")

STATUS_PROPERTY = "datasetrun.status"
# The exception name scorer subtest failures carry (plugin.nodes.ScorerFailed).
_SCORER_FAILURE = "ScorerFailed"


def row_properties(result: ItemResult | ResultRow) -> list[tuple[str, str]]:
    """The ``<property>`` elements of a row's testcase: status, scores, thresholds, errors, latency."""
    props = [(STATUS_PROPERTY, result.status), ("datasetrun.item_id", result.item_id)]
    props.append(("datasetrun.target_latency_s", f"{result.target_duration_s:.6f}"))
    if result.error:
        props.append(("datasetrun.target_error", result.error))
    for score in result.scores:
        value = "error" if score.error else _num(score.value)
        props.append((f"datasetrun.score.{score.id}", value))
        if score.threshold is not None:
            props.append((f"datasetrun.threshold.{score.id}", f"{score.threshold:g}"))
        if score.error:
            props.append((f"datasetrun.error.{score.id}", score.error))
    return props


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


@dataclass
class Rewritten:
    """What :func:`rewrite` changed."""

    rows: int = 0
    scorer_failures_removed: int = 0
    errored: int = 0


def rewrite(
    path: str | os.PathLike[str], *, passed_scorers: int, keep_properties: bool
) -> Rewritten:
    """Make the JUnit file at ``path`` count rows, not scorer subtests (see the module docstring).

    :param passed_scorers: passing scorer subtest reports pytest counted as tests.
    :param keep_properties: keep the rows' ``<property>`` elements (the junit-10 XSD has none).
    """
    tree = ET.parse(path)
    done = Rewritten()
    suites = list(tree.getroot().iter("testsuite"))
    for suite in suites:
        before = Rewritten(**vars(done))
        for case in suite.findall("testcase"):
            _rewrite_case(case, done, keep_properties)
        removed = done.scorer_failures_removed - before.scorer_failures_removed
        errored = done.errored - before.errored
        _add(suite, "failures", -removed - errored)
        _add(suite, "errors", errored)
        _add(suite, "tests", -removed)
    if suites:
        _add(suites[0], "tests", -passed_scorers)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('<?xml version="1.0" encoding="utf-8"?>')
        fh.write(ET.tostring(tree.getroot(), encoding="unicode"))
    return done


def _rewrite_case(case: ET.Element, done: Rewritten, keep_properties: bool) -> None:
    props = case.find("properties")
    status = None
    if props is not None:
        status = next(
            (p.get("value") for p in props if p.get("name") == STATUS_PROPERTY),
            None,
        )
    if status is None:
        return  # not a dataset row
    done.rows += 1
    for failure in case.findall("failure"):
        if failure.get("message", "").startswith(_SCORER_FAILURE):
            case.remove(failure)
            done.scorer_failures_removed += 1
    if status == "errored":
        for failure in case.findall("failure"):
            failure.tag = "error"
            done.errored += 1
    if not keep_properties and props is not None:
        case.remove(props)


def _add(suite: ET.Element, attr: str, delta: int) -> None:
    if delta:
        suite.set(attr, str(max(0, int(suite.get(attr, "0")) + delta)))
