"""The run as one self-contained, offline HTML file (jinja2 with autoescaping).

Everything the page shows from the data goes through jinja2's autoescaping (server-rendered
parts) or ``textContent`` (rows, rendered by the page's script on demand). The rows travel as
JSON inside ``<script type="application/json">`` with ``<``, ``>`` and ``&`` written as
``\\u003c``/``\\u003e``/``\\u0026``, so no text can close the script element. A
Content-Security-Policy allows no request at all.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pytest_datasetrun.analysis.intervals import mean_interval
from pytest_datasetrun.scorers.toolcalls import extract_tool_calls

if TYPE_CHECKING:
    from pytest_datasetrun.analysis.compare import Comparison
    from pytest_datasetrun.record.results import ItemResult
    from pytest_datasetrun.record.run import RunRecord

__all__ = ("render_html", "embed_json", "MAX_TEXT")

MAX_TEXT = 4000  # characters of one input/expected/output kept in the page
_BINS = 10
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def render_html(record: RunRecord, comparison: Comparison | None = None) -> str:
    """The report page.

    :param record: the run, with its items.
    :param comparison: its comparison with a baseline, if any.
    :returns: the whole HTML document.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pytest_datasetrun.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("report.html.j2")
    markup = jinja2.utils.markupsafe.Markup
    return template.render(
        css=markup(_static("report.css")),
        js=markup(_static("report.js")),
        record=record,
        verdict=_verdict(record, comparison),
        scorers=[_card(record, key) for key in record.aggregates],
        comparison=comparison,
        options=json.dumps(record.options, indent=1, ensure_ascii=False, default=repr),
        rows_json=markup(embed_json(_rows(record))),
        scorer_ids=list(record.aggregates),
    )


def _static(name: str) -> str:
    """Our own stylesheet and script, inlined so the page needs no second file."""
    from importlib.resources import files

    return (files("pytest_datasetrun.report") / "templates" / name).read_text(encoding="utf-8")


def embed_json(value: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">`` (see the module docstring)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=repr)
    return text.translate(_JSON_ESCAPES)


def _verdict(record: RunRecord, comparison: Comparison | None) -> str:
    c = record.counts
    bad = c.failed or c.errored or any(not g.passed for g in record.gates)
    return "failed" if bad or (comparison is not None and comparison.regressed) else "passed"


def _card(record: RunRecord, key: str) -> dict[str, Any]:
    agg = record.aggregates[key]
    values = [
        s.value for item in record.items for s in item.scores if s.id == key and s.value is not None
    ]
    counts = [0] * _BINS
    for value in values:
        counts[min(int(value * _BINS), _BINS - 1)] += 1
    top = max(counts) or 1
    ci = mean_interval(agg.n, agg.mean, agg.stdev)
    return {
        "id": key,
        "agg": agg,
        "ci": ci,
        "bins": [{"count": n, "height": round(100 * n / top)} for n in counts],
    }


def _rows(record: RunRecord) -> list[dict[str, Any]]:
    return [_row(item) for item in record.items]


def _row(item: ItemResult) -> dict[str, Any]:
    return {
        "id": item.item_id,
        "status": item.status,
        "tags": item.tags,
        "input": _text(item.input),
        "expected": None if item.expected is None else _text(item.expected),
        "output": None if item.output is None else _text(item.output),
        "error": item.error,
        "latency": round(item.target_duration_s, 6),
        "scores": {
            s.id: {
                "v": s.value,
                "p": s.passed,
                "t": s.threshold,
                "r": _cut(s.reason) if s.reason else None,
                "e": s.error,
            }
            for s in item.scores
        },
        "tools": _tool_calls(item.output),
        "usage": item.usage.model_dump(mode="json") if item.usage is not None else None,
        "cost": item.cost_usd,
    }


def _text(value: Any) -> str:
    text = (
        value
        if isinstance(value, str)
        else json.dumps(value, indent=2, ensure_ascii=False, default=repr)
    )
    return _cut(text)


def _cut(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[:MAX_TEXT] + f"\n… ({len(text) - MAX_TEXT} more characters in the run store)"


def _tool_calls(output: Any) -> list[str]:
    try:
        return [_cut(call.render()) for call in extract_tool_calls(output)]
    except (ValueError, TypeError, AttributeError):
        return []
