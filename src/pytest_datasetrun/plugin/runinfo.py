"""What the run record says about the run: its datasets, target, scorers and default name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_datasetrun.plugin.context import RunContext
from pytest_datasetrun.record.run import DatasetInfo, ScorerInfo, TargetInfo

__all__ = ("dataset_infos", "target_info", "scorer_infos", "default_name")


def dataset_infos(ctx: RunContext, selected: dict[str, int]) -> list[DatasetInfo]:
    """The run's datasets, each with how many of its rows were selected."""
    infos = []
    for path in ctx.options.datasets:
        dataset = ctx.dataset(path)
        infos.append(
            DatasetInfo(
                path=_display(ctx.config, path),
                name=dataset.name,
                sha256=dataset.sha256,
                total=dataset.total,
                selected=selected.get(str(path), 0),
                format=dataset.format,
            )
        )
    return infos


def target_info(meta: dict[str, dict[str, Any]], ref: str | None) -> TargetInfo | None:
    """The target the workers reported, or the one named on the command line."""
    for reported in meta.values():
        return TargetInfo(**reported["target"])
    return TargetInfo(id=ref, name=ref, kind="unknown") if ref else None


def scorer_infos(meta: dict[str, dict[str, Any]]) -> list[ScorerInfo]:
    """Every scorer the datasets ran, once, in the order they were first reported."""
    seen: dict[str, ScorerInfo] = {}
    for reported in meta.values():
        for scorer in reported["scorers"]:
            seen.setdefault(scorer["id"], ScorerInfo(**scorer))
    return list(seen.values())


def default_name(ctx: RunContext, target: TargetInfo | None) -> str:
    """``<dataset names>@<target id>``: the run's name unless ``--run-name`` gives one."""
    datasets = "+".join(ctx.dataset(p).name for p in ctx.options.datasets)
    return f"{datasets}@{target.id}" if target else datasets


def _display(config: pytest.Config, path: Path) -> str:
    try:
        return path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return str(path)
