"""Tokens, cost and latency of a run: a price table, per-item cost and the run's usage summary.

Only the rows that called the target in this run spend anything: a row whose output came from
the call cache or a replayed run costs 0 (its stored usage is kept on the item, for reference).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_datasetrun.analysis.provenance import target_calls
from pytest_datasetrun.analysis.totals import UsageTotals, judge_usages, percentile
from pytest_datasetrun.errors import ConfigError
from pytest_datasetrun.record.results import ItemResult

__all__ = (
    "Prices",
    "apply_costs",
    "judge_usages",
    "parse_prices",
    "percentile",
    "shared_row_costs",
    "usage_summary",
)


@dataclass(frozen=True)
class Prices:
    """USD per million input and output tokens, per model (``*`` prices any other model)."""

    table: Mapping[str, tuple[float, float]]

    def cost(self, model: str | None, input_tokens: int, output_tokens: int) -> float | None:
        rates = self.table.get(model or "") or self.table.get("*")
        if rates is None:
            return None
        return (input_tokens * rates[0] + output_tokens * rates[1]) / 1_000_000


def parse_prices(lines: Sequence[str] = (), path: Path | None = None) -> Prices | None:
    """The price table from ini lines (``MODEL = INPUT OUTPUT``) and/or a JSON or YAML file.

    A file maps each model to ``{"input": USD, "output": USD}`` (per million tokens) or to
    ``[INPUT, OUTPUT]``; the file wins over the ini lines for a model in both.
    """
    table: dict[str, tuple[float, float]] = {}
    for number, line in enumerate(lines, 1):
        model, sep, rates = line.partition("=")
        parts = rates.split()
        if not sep or not model.strip() or len(parts) != 2:
            raise ConfigError(
                f"datasetrun_prices, line {number}: {line!r} is not MODEL = INPUT OUTPUT "
                "(USD per million tokens, e.g. gpt-4o-mini = 0.15 0.60)"
            )
        table[model.strip()] = _rates(f"datasetrun_prices, line {number}", parts)
    if path is not None:
        table.update(_file_prices(path))
    return Prices(table) if table else None


def _file_prices(path: Path) -> dict[str, tuple[float, float]]:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else _yaml(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--prices {path}: cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--prices {path}: expected a mapping of model to prices")
    table = {}
    for model, rates in data.items():
        where = f"--prices {path}, model {model!r}"
        if isinstance(rates, dict):
            _known_keys(where, rates)
            rates = [rates.get("input"), rates.get("output")]
        if not isinstance(rates, (list, tuple)) or len(rates) != 2:
            raise ConfigError(f"{where}: give {{input: USD, output: USD}} per million tokens")
        table[str(model)] = _rates(where, rates)
    return table


def _known_keys(where: str, rates: dict[Any, Any]) -> None:
    """A misspelt or unsupported key (``inptu``, ``cached_input``) is an error, never ignored."""
    unknown = sorted(map(str, set(rates) - {"input", "output"}))
    if unknown:
        keys = "unknown key" + ("s " if len(unknown) > 1 else " ") + ", ".join(map(repr, unknown))
        raise ConfigError(f"{where}: {keys}; give {{input: USD, output: USD}} per million tokens")


def _yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None


def _rates(where: str, parts: Sequence[Any]) -> tuple[float, float]:
    try:
        rates = (float(parts[0]), float(parts[1]))
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {list(parts)!r} are not two numbers") from None
    if any(math.isnan(r) or r < 0 for r in rates):
        raise ConfigError(f"{where}: prices must be non-negative numbers")
    return rates


def apply_costs(items: Iterable[ItemResult], prices: Prices | None) -> None:
    """With a price table, set each item's ``cost_usd``: 0 when not called or when its call
    raised before reporting usage, else priced usage (None when the model has no price or a
    successful call reported no usage)."""
    if prices is None:
        return
    for item in items:
        if item.via != "target" or (item.usage is None and _target_failed(item)):
            item.cost_usd = 0.0
        elif item.usage is not None:
            usage = item.usage
            item.cost_usd = prices.cost(usage.model, usage.input_tokens, usage.output_tokens)


def _target_failed(item: ItemResult) -> bool:
    """Every call of the row raised: no answer, so no usage to price (#13 review 1)."""
    if item.repeats:
        return all(repeat.error is not None for repeat in item.repeats)
    return item.status == "errored" and item.error is not None and not item.scores


def usage_summary(items: Sequence[ItemResult], prices: Prices | None) -> dict[str, Any]:
    """Run totals: rows by origin, tokens spent, latency p50/p95, cost (when priced)."""
    totals = UsageTotals()
    for item in items:
        totals.add(item)
    summary = totals.summary()
    if prices is None:
        return summary
    called = [item for item in items if target_calls(item)]
    judged = judge_usages(items)
    answered = [item for item in called if not _target_failed(item)]
    unknown = [item for item in answered if item.usage is not None and item.cost_usd is None]
    missing = {item.usage.model or "<no model>" for item in unknown if item.usage}
    judge_costs = [prices.cost(u.model, u.input_tokens, u.output_tokens) for u in judged]
    missing |= {
        u.model or "<no model>" for u, c in zip(judged, judge_costs, strict=True) if c is None
    }
    target_cost = sum(item.cost_usd or 0.0 for item in items)
    summary["target_cost_usd"] = target_cost
    summary["judge_cost_usd"] = sum(c or 0.0 for c in judge_costs) if judged else None
    summary["cost_usd"] = target_cost + (summary["judge_cost_usd"] or 0.0)
    summary["unpriced"] = sorted(missing)
    summary["usage_unreported"] = bool(answered) and all(i.usage is None for i in answered)
    return summary


def shared_row_costs(
    base_items: Sequence[ItemResult], items: Sequence[ItemResult], prices: Prices
) -> dict[str, Any]:
    """The cost of the calls behind each row's output, summed over the rows both runs measured.

    A cached or replayed row is priced by the usage its original call reported (kept on the
    item), so a baseline built from the cache still has a cost; a row whose target raised costs
    0; a row without usage (or, in this run, with an unpriced model) is left out.
    """
    base = {_row_key(item): _call_cost(item, prices) for item in base_items}
    mine = {_row_key(item): _call_cost(item, prices) for item in items}
    shared = [k for k in mine if k in base and mine[k] is not None and base[k] is not None]
    unpriced = sorted(
        {i.usage.model or "<no model>" for i in items if i.usage and _call_cost(i, prices) is None}
    )
    return {
        "rows": len(shared),
        "cost_usd": sum(mine[k] or 0.0 for k in shared),
        "baseline_cost_usd": sum(base[k] or 0.0 for k in shared),
        "unpriced": unpriced,
    }


def _row_key(item: ItemResult) -> tuple[str, str]:
    return (Path(item.dataset).name, item.item_id)


def _call_cost(item: ItemResult, prices: Prices) -> float | None:
    if item.status in ("skipped", "not_run"):
        return None
    if item.usage is None:
        return 0.0 if _target_failed(item) else None
    usage = item.usage
    return prices.cost(usage.model, usage.input_tokens, usage.output_tokens)
