"""RUN references: turn ``latest``, ``latest~2``, a run name, an id prefix or a file into a run.

The forms, tried in this order:

1. a full run id;
2. a path to an exported run JSON file (``show --json`` / ``export --format json`` output);
3. ``latest`` or ``latest~N`` (``N`` runs before the latest);
4. a run name (the latest run with that name);
5. a unique prefix of a run id.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from pytest_datasetrun.errors import StoreError

if TYPE_CHECKING:
    from pytest_datasetrun.record.run import RunRecord

__all__ = ("LATEST_RE", "RunName", "file_ref", "load_run_file", "resolve_ref")

LATEST_RE = re.compile(r"^latest(?:~(\d+))?$")
_SHOWN = 5


class _Named(Protocol):
    @property
    def run_id(self) -> str: ...

    @property
    def name(self) -> str: ...


class RunName(NamedTuple):
    """What resolving a reference needs of a run: its id and name (and where it is indexed)."""

    run_id: str
    name: str
    doc_id: str = ""


def file_ref(ref: str) -> Path | None:
    """The file a reference names, if it looks like a path and the file exists.

    :param ref: the reference as the user typed it.
    :returns: the path, or ``None`` when ``ref`` is not an existing file.
    """
    looks_like_path = "/" in ref or "\\" in ref or ref.endswith(".json")
    path = Path(ref).expanduser()
    return path if looks_like_path and path.is_file() else None


def load_run_file(path: Path) -> RunRecord:
    """Load one whole run (with items) from an exported run JSON file.

    :param path: a file written by ``show --json`` or ``export --format json``.
    :returns: the run record.
    :raises StoreError: the file is not JSON or not a run record.
    """
    from pydantic import ValidationError

    from pytest_datasetrun.record.run import RunRecord

    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise StoreError(f"run file {path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise StoreError(
            f"run file {path} does not hold a run: expected a JSON object, got {type(data).__name__}"
        )
    try:
        return RunRecord.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise StoreError(
            f"run file {path} does not hold a run: field '{where}': {first['msg']} "
            f"(write one with `pytest-datasetrun export RUN --format json -o FILE`)"
        ) from None


def resolve_ref(ref: str, runs: Sequence[_Named], *, store: Path) -> str:
    """The id of the run a reference names among the store's runs.

    :param ref: a full id, ``latest``, ``latest~N``, a run name or a unique id prefix.
    :param runs: the store's runs (summaries or :class:`RunName`), sorted by run id (oldest first).
    :param store: the store path, named in error messages.
    :returns: the run id.
    :raises StoreError: nothing or more than one run matches; the message lists candidates.
    """
    ref = ref.strip()
    if not ref:
        raise StoreError("empty run reference: give a run id, name, `latest` or `latest~N`")
    ids = [run.run_id for run in runs]
    if ref in ids:
        return ref
    latest = LATEST_RE.match(ref)
    if latest:
        return _nth_latest(ids, int(latest.group(1) or 0), store)
    named = [run.run_id for run in runs if run.name == ref]
    if named:
        return named[-1]
    prefixed = [run_id for run_id in ids if run_id.startswith(ref)]
    if len(prefixed) == 1:
        return prefixed[0]
    if prefixed:
        raise StoreError(
            f"run id prefix '{ref}' is ambiguous in store {store}: it matches "
            f"{len(prefixed)} runs ({_listing(prefixed)}); give more characters of the id"
        )
    raise StoreError(_unknown_message(ref, runs, store))


def _nth_latest(ids: Sequence[str], back: int, store: Path) -> str:
    if not ids:
        raise StoreError(f"store {store} has no runs yet, so there is no `latest` run")
    if back >= len(ids):
        raise StoreError(
            f"latest~{back} is out of range: store {store} holds {len(ids)} run(s), "
            f"so the oldest is latest~{len(ids) - 1}"
        )
    return ids[-1 - back]


def _unknown_message(ref: str, runs: Sequence[_Named], store: Path) -> str:
    message = f"no run matches '{ref}' in store {store}"
    if not runs:
        return f"{message}: the store has no runs yet"
    names = sorted({run.name for run in runs if run.name})
    candidates = names + [run.run_id for run in runs]
    close = difflib.get_close_matches(ref, candidates, n=_SHOWN, cutoff=0.5)
    if close:
        return f"{message}; did you mean {_listing(close)}?"
    hint = f"known names: {_listing(names)}" if names else "list them with `pytest-datasetrun runs`"
    return f"{message} (not an id, id prefix, run name, `latest~N` or run file); {hint}"


def _listing(values: Sequence[str]) -> str:
    shown = ", ".join(f"'{value}'" for value in values[:_SHOWN])
    more = len(values) - _SHOWN
    return f"{shown} and {more} more" if more > 0 else shown
