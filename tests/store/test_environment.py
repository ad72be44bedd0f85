"""The run's environment: git state asked for when the run starts, with real git repositories."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pytest_datasetrun.store.environment import GitState, capture_environment


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=a@b", "-c", "user.name=n", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q", "-b", "trunk")
    (tmp_path / "a.txt").write_text("one\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


@pytest.fixture(autouse=True)
def _no_ci_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_SHA", "CI_COMMIT_SHA", "GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        monkeypatch.delenv(name, raising=False)


def test_clean_repository(repo: Path) -> None:
    env = capture_environment(repo, 0)
    assert env.git_commit == _git(repo, "rev-parse", "HEAD")
    assert (env.git_branch, env.git_dirty, env.workers) == ("trunk", False, 0)


def test_tracked_change_is_dirty_and_untracked_file_is_not(repo: Path) -> None:
    (repo / "new.txt").write_text("untracked\n")
    assert capture_environment(repo, 0).git_dirty is False
    (repo / "a.txt").write_text("two\n")
    assert capture_environment(repo, 2).git_dirty is True


def test_state_is_the_one_asked_for_first(repo: Path) -> None:
    state = GitState(repo)
    state.read()  # the answers are kept: a change made afterwards is not the run's starting point
    (repo / "a.txt").write_text("changed during the run\n")
    _git(repo, "checkout", "-q", "-b", "other")
    env = capture_environment(repo, 0, state)
    assert (env.git_branch, env.git_dirty) == ("trunk", False)


def test_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    env = capture_environment(tmp_path, 0)
    assert (env.git_commit, env.git_branch, env.git_dirty) == (None, None, None)
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    env = capture_environment(tmp_path, 0)
    assert (env.git_commit, env.git_branch, env.git_dirty) == ("f" * 40, "main", None)


def test_repository_without_commits(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "-b", "trunk")
    env = capture_environment(tmp_path, 0)
    assert (env.git_commit, env.git_dirty) == (None, None)


def test_no_git_installed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "nowhere"))
    env = capture_environment(repo, 0)
    assert (env.git_commit, env.git_branch, env.git_dirty) == (None, None, None)
    assert env.python and env.plugin


def test_close_stops_queries_nobody_read(repo: Path) -> None:
    state = GitState(repo)
    running = [proc for proc in state._running.values() if proc is not None]
    state.close()
    assert running and all(proc.returncode is not None for proc in running)
    assert all(proc.stdout is not None and proc.stdout.closed for proc in running)
    state.close()  # twice is fine


def test_status_takes_no_index_lock(repo: Path) -> None:
    """A plain git status rewrites the index when file times changed (holding index.lock)."""
    index = repo / ".git" / "index"
    later = (repo / "a.txt").stat().st_mtime + 10
    os.utime(repo / "a.txt", (later, later))
    before = index.read_bytes()
    assert capture_environment(repo, 0).git_dirty is False
    assert index.read_bytes() == before


def test_session_records_the_state_it_started_from(project, qa) -> None:
    """A target that edits a tracked file while the run goes on does not make the run dirty."""
    qa([{"id": "q1", "input": "hello", "expected": "hello"}])
    (project.path / "notes.txt").write_text("before\n")
    _git(project.path, "init", "-q", "-b", "trunk")
    _git(project.path, "add", "-A")
    _git(project.path, "commit", "-q", "-m", "start")
    project.pytester.makepyfile(
        editing_agent="""
        from pathlib import Path

        import pytest_datasetrun as dr

        @dr.target(id="editing")
        def editing(input):
            Path("notes.txt").write_text("edited by the run\\n")
            return input
        """
    )
    result = project.run("--dataset=qa.jsonl", "--target=editing_agent:editing")
    assert result.ret == 0, result.stdout.str()
    env = project.last_run().environment
    assert env.git_commit == _git(project.path, "rev-parse", "HEAD")
    assert (env.git_branch, env.git_dirty) == ("trunk", False)
    assert (project.path / "notes.txt").read_text() == "edited by the run\n"


@pytest.mark.parametrize(("args", "queries"), [((), 3), (("--collect-only",), 0)])
def test_git_is_asked_only_by_sessions_that_run_rows(
    project, qa, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], queries: int
) -> None:
    """An IDE's --collect-only (run on every save) starts no git process."""
    from pytest_datasetrun.store import environment

    started: list[list[str]] = []
    real_popen = subprocess.Popen

    def popen(cmd: list[str], **kwargs: object) -> subprocess.Popen[str]:
        started.append(cmd)
        return real_popen(cmd, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(environment.subprocess, "Popen", popen)
    qa([{"id": "q1", "input": "hello", "expected": "hello"}])
    result = project.run("--dataset=qa.jsonl", "--target=echo", *args)
    assert result.ret == 0, result.stdout.str()
    assert [cmd[0] for cmd in started] == ["git"] * queries
