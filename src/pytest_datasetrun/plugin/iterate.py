"""Options for iterating cheaply: the call cache, replaying a stored run, prices and budgets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = ("IterationOptions", "add_iteration_options", "read_iteration_options")

CACHE_MODES = ("read-write", "read-only", "refresh", "off")  # engine.cache.CACHE_MODES
DEFAULT_CACHE_DIR = ".datasetrun/cache"


def add_iteration_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("datasetrun")
    add = group.addoption
    # A flag, not --cache [DIR]: an optional value swallowed the node id after it (#13 review 7).
    add(
        "--cache",
        action="store_true",
        default=False,
        help=f"reuse target outputs from the call cache (in {DEFAULT_CACHE_DIR}, or --cache-dir).",
    )
    add(
        "--cache-dir",
        default=None,
        metavar="DIR",
        help="the call cache's directory (implies --cache; ini datasetrun_cache_dir).",
    )
    add(
        "--cache-mode",
        choices=CACHE_MODES,
        default=None,
        help="read-write (default with --cache), read-only, refresh (call and overwrite), off.",
    )
    add("--replay", default=None, metavar="RUN", help="take target outputs from a stored run.")
    add(
        "--replay-strict",
        action="store_true",
        default=False,
        help="with --replay: a row the stored run cannot answer is an error, never a target call.",
    )
    add(
        "--replay-errors",
        choices=("keep", "rerun"),
        default="keep",
        help="with --replay: keep stored target errors (default) or call the target again.",
    )
    add("--prices", default=None, metavar="FILE", help="price table (JSON or YAML) for --max-cost.")
    add("--max-cost", default=None, metavar="USD", help="fail when the run's calls cost more.")
    add("--max-tokens", default=None, metavar="N", help="fail when the run spends more tokens.")
    add(
        "--max-latency-p95",
        default=None,
        metavar="SECONDS",
        help="fail when the 95th percentile target latency is higher.",
    )
    add(
        "--max-cost-increase",
        default=None,
        metavar="PCT",
        help="with --baseline: fail when the cost grows by more than PCT percent.",
    )
    ini = parser.addini
    ini(
        "datasetrun_cache",
        "call cache mode: off (default), read-write, read-only, refresh.",
        default="off",
    )
    ini(
        "datasetrun_cache_dir",
        "call cache directory, relative to the rootdir.",
        default=DEFAULT_CACHE_DIR,
    )
    ini(
        "datasetrun_prices",
        "MODEL = INPUT OUTPUT (USD per million tokens), one per line.",
        type="linelist",
        default=[],
    )
    for name, what in (
        ("max_cost", "USD"),
        ("max_tokens", "tokens"),
        ("max_latency_p95", "seconds"),
        ("max_cost_increase", "percent"),
    ):
        ini(f"datasetrun_{name}", f"budget: {name.replace('_', ' ')} ({what}).", default="")


@dataclass(frozen=True)
class IterationOptions:
    cache_mode: str
    cache_dir: Path
    replay: str | None
    replay_strict: bool
    rerun_errors: bool
    prices_file: Path | None
    prices_lines: tuple[str, ...]
    max_cost: str | None
    max_tokens: str | None
    max_latency_p95: str | None
    max_cost_increase: str | None
    # Where each budget came from ("--max-cost" or "datasetrun_max_cost"), for errors.
    labels: dict[str, str] = field(default_factory=dict, compare=False)

    def budget_spec(self) -> Any:
        """The parsed budgets (:class:`~pytest_datasetrun.analysis.budgets.BudgetSpec`)."""
        from pytest_datasetrun.analysis.budgets import parse_budgets

        return parse_budgets(
            self.max_cost,
            self.max_tokens,
            self.max_latency_p95,
            self.max_cost_increase,
            labels=self.labels,
        )

    @property
    def budgets(self) -> bool:
        return any(
            v is not None
            for v in (self.max_cost, self.max_tokens, self.max_latency_p95, self.max_cost_increase)
        )

    def recorded(self) -> dict[str, Any]:
        """What is stored in the run's options."""
        return {
            "cache": self.cache_mode,
            "replay": self.replay,
            "replay_strict": self.replay_strict,
            "replay_errors": "rerun" if self.rerun_errors else "keep",
        }


def read_iteration_options(config: pytest.Config) -> IterationOptions:
    opt, ini = config.getoption, config.getini
    base = config.invocation_params.dir
    given = opt("cache_dir")
    enabled = bool(opt("cache")) or given is not None
    mode = opt("cache_mode") or ("read-write" if enabled else ini("datasetrun_cache"))
    mode = str(mode or "off").strip()
    if mode not in CACHE_MODES:
        raise pytest.UsageError(
            f"datasetrun_cache: {mode!r} is not a cache mode ({', '.join(CACHE_MODES)})"
        )
    if given:
        cache_dir = (base / given).resolve()
    else:
        cache_dir = (config.rootpath / (ini("datasetrun_cache_dir") or DEFAULT_CACHE_DIR)).resolve()
    prices = opt("prices")

    labels: dict[str, str] = {}

    def budget(name: str) -> str | None:
        value = opt(name)
        labels[name] = "--" + name.replace("_", "-")
        if value in (None, ""):
            value, labels[name] = ini(f"datasetrun_{name}"), f"datasetrun_{name}"
        return str(value).strip() or None

    return IterationOptions(
        cache_mode=mode,
        cache_dir=cache_dir,
        replay=opt("replay") or None,
        replay_strict=bool(opt("replay_strict")),
        rerun_errors=opt("replay_errors") == "rerun",
        prices_file=(base / prices).resolve() if prices else None,
        prices_lines=tuple(ini("datasetrun_prices")),
        max_cost=budget("max_cost"),
        max_tokens=budget("max_tokens"),
        max_latency_p95=budget("max_latency_p95"),
        max_cost_increase=budget("max_cost_increase"),
        labels=labels,
    )
