"""What writes killed halfway leave beside the store is removed by the next write or delete."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from tests.store.test_store import make_record

from pytest_datasetrun.store.index import STALE_TMP_S
from pytest_datasetrun.store.runstore import delete_runs, open_store, write_run


@pytest.fixture(params=["runs.json", "runs[ci].json"])
def store(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    path = tmp_path / "db" / request.param
    write_run(path, make_record(2, minute=0, tag="aaaaaa"))
    return path


def _leftovers(store: Path, age_s: float) -> list[Path]:
    """Temporary files as a killed index rewrite and a killed items write leave them."""
    items = store.parent / f"{store.stem}.items"
    made = [
        store.parent / f".{store.name}.k3j2x9.tmp",
        items / ".20260101T000000000Z-aaaaaa.json.q8w7e6.tmp",
    ]
    stamp = time.time() - age_s
    for path in made:
        path.write_bytes(b'{"half": ')
        os.utime(path, (stamp, stamp))
    return made


@pytest.mark.parametrize("how", ["write", "delete"])
def test_stale_temporary_files_are_removed_fresh_ones_kept(store: Path, how: str) -> None:
    stale = _leftovers(store, STALE_TMP_S + 60)
    fresh = [p.with_name(p.name.replace(".tmp", "x.tmp")) for p in stale]
    for path in fresh:  # a write in progress in another process: seconds old
        path.write_bytes(b"{")
    before = open_store(store).runs()
    if how == "write":
        write_run(store, make_record(3, minute=1, tag="bbbbbb"))
        assert len(open_store(store).runs()) == len(before) + 1
    else:
        assert delete_runs(store, [before[0].run_id]) == 1
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in fresh)


def test_other_files_beside_the_store_are_left_alone(store: Path) -> None:
    keep = [store.parent / "notes.tmp", store.parent / ".gitignore", store.parent / "runs.json.bak"]
    stamp = time.time() - STALE_TMP_S * 2
    for path in keep:
        path.write_bytes(b"mine")
        os.utime(path, (stamp, stamp))
    write_run(store, make_record(3, minute=1, tag="bbbbbb"))
    assert all(p.read_bytes() == b"mine" for p in keep)
