"""Which dataset tags become pytest markers.

A tag becomes a marker so that ``-m TAG`` selects its rows (registered for you, so
``--strict-markers`` is fine). A tag named like a marker that changes how an item runs must not:
a row tagged ``skip`` would be skipped, one tagged ``flaky`` re-run by pytest-rerunfailures, one
tagged ``timeout`` given pytest-timeout's limit, one tagged ``langsmith`` traced to LangSmith:
data would steer the run. Such a tag only feeds ``-k`` (with a warning once per name): pytest's
own markers always, the markers of the plugins below when that plugin is installed (its marker
is registered). Any other name, one a conftest registers included, stays a marker.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable

import pytest

__all__ = ("marker_tags", "register_tag_markers")

# What pytest's -m expression grammar accepts as a name (digits, dots, dashes, Unicode letters).
_MARKER_NAME = re.compile(r"^[\w.+\-]+$")
# pytest's own markers that change how an item runs: never made from a tag.
_RESERVED = frozenset(
    {
        "skip",
        "skipif",
        "xfail",
        "parametrize",
        "usefixtures",
        "filterwarnings",
        "tryfirst",
        "trylast",
    }
)
# Markers of common plugins that change how, whether or how often an item runs, or what it
# reaches: not made from a tag when an installed plugin registered the name.
_PLUGIN_MARKERS = frozenset(
    {
        "flaky",  # pytest-rerunfailures, flaky: re-runs
        "timeout",  # pytest-timeout
        "asyncio",  # pytest-asyncio
        "anyio",
        "trio",
        "order",  # pytest-order, pytest-ordering
        "run",
        "dependency",  # pytest-dependency: skips
        "forked",  # pytest-forked
        "xdist_group",  # --dist loadgroup scheduling
        "repeat",  # pytest-repeat
        "django_db",
        "vcr",  # pytest-recording: cassettes
        "block_network",
        "enable_socket",  # pytest-socket
        "disable_socket",
        "allow_hosts",
        "freeze_time",  # pytest-freezer
        "langsmith",  # LangSmith's pytest plugin: traces the test
        "no_cover",  # pytest-cov
        "benchmark",
    }
)
_owned = pytest.StashKey[frozenset[str]]()
_warned = pytest.StashKey[set[str]]()


def marker_tags(config: pytest.Config, tags: Iterable[str]) -> list[str]:
    """The tags that become markers: valid names no behaviour-changing marker has."""
    owned = _plugin_markers(config)
    chosen = []
    for tag in tags:
        if not _MARKER_NAME.match(tag) or tag in _RESERVED:
            continue
        if tag in owned:
            _warn_once(config, tag)
            continue
        chosen.append(tag)
    return chosen


def register_tag_markers(config: pytest.Config, tags: Iterable[str]) -> None:
    """Register the tags that become markers (``--strict-markers`` then accepts ``-m TAG``)."""
    for tag in marker_tags(config, tags):
        config.addinivalue_line("markers", f"{tag}: dataset tag")


def _plugin_markers(config: pytest.Config) -> frozenset[str]:
    """The behaviour-changing plugin markers registered in this session (computed once)."""
    owned = config.stash.get(_owned, None)
    if owned is None:
        names = {
            line.split(":", 1)[0].split("(", 1)[0].strip() for line in config.getini("markers")
        }
        owned = _PLUGIN_MARKERS & frozenset(names)
        config.stash[_owned] = owned
    return owned


def _warn_once(config: pytest.Config, tag: str) -> None:
    warned = config.stash.setdefault(_warned, set())
    if tag in warned:
        return
    warned.add(tag)
    warnings.warn(
        pytest.PytestWarning(
            f"datasetrun: the dataset tag {tag!r} is also the marker of an installed plugin, "
            f"so it is not made a marker (it would change how its rows run); select its rows "
            f"with -k {tag}"
        ),
        stacklevel=2,
    )
