"""Where the run store is: one resolution for pytest and the ``pytest-datasetrun`` command.

The order is the same everywhere: the command-line option, then ``$DATASETRUN_STORE``, then the
``datasetrun_store`` ini key (relative to the rootdir), then ``.datasetrun/runs.json`` under the
rootdir. The command line finds the rootdir the way pytest does: the directory of the first ini
file found walking up from the current directory.
"""

from __future__ import annotations

import configparser
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_datasetrun.errors import ConfigError

__all__ = ("STORE_ENV", "DEFAULT_STORE_NAME", "IniFile", "find_ini", "resolve_store")

STORE_ENV = "DATASETRUN_STORE"
DEFAULT_STORE_NAME = ".datasetrun/runs.json"
# pytest's own order within one directory (``_pytest.config.findpaths``).
_INI_NAMES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


@dataclass(frozen=True)
class IniFile:
    """The pytest configuration file that applies to a directory, and its values."""

    path: Path | None
    rootdir: Path
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def resolve_store(
    option: str | os.PathLike[str] | None,
    *,
    ini_value: str | None,
    rootdir: Path,
    cwd: Path,
    environ: dict[str, str] | os._Environ[str] | None = None,
) -> Path:
    """The run store path (see the module docstring for the order).

    :param option: ``--run-store`` (relative to ``cwd``).
    :param ini_value: ``datasetrun_store`` from the ini file (relative to ``rootdir``).
    :returns: an absolute path.
    """
    env = (os.environ if environ is None else environ).get(STORE_ENV)
    if option:
        return (cwd / os.path.expanduser(option)).resolve()
    if env:
        return (cwd / os.path.expanduser(env)).resolve()
    if ini_value:
        return (rootdir / os.path.expanduser(ini_value)).resolve()
    return (rootdir / DEFAULT_STORE_NAME).resolve()


def find_ini(start: Path) -> IniFile:
    """The first pytest ini file walking up from ``start`` (the rootdir is its directory).

    Without one the rootdir is ``start``, as for a pytest run there with no arguments.
    """
    start = start.resolve()
    for directory in (start, *start.parents):
        for name in _INI_NAMES:
            path = directory / name
            if path.is_file():
                values = _read(path)
                if values is not None:
                    return IniFile(path=path, rootdir=directory, values=values)
    return IniFile(path=None, rootdir=start)


def _read(path: Path) -> dict[str, Any] | None:
    """The pytest values of one candidate file, or ``None`` when it has no pytest section."""
    try:
        if path.suffix == ".toml":
            return _read_toml(path)
        return _read_ini(path)
    except (OSError, ValueError, configparser.Error) as exc:
        raise ConfigError(f"{path}: cannot read the pytest configuration: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any] | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - pytest depends on tomli there
        import tomli as tomllib
    with path.open("rb") as fh:
        tool = tomllib.load(fh).get("tool", {}).get("pytest")
    if not isinstance(tool, dict):
        return None
    legacy = tool.get("ini_options")
    if isinstance(legacy, dict):
        return dict(legacy)
    return {key: value for key, value in tool.items() if key != "ini_options"}


def _read_ini(path: Path) -> dict[str, Any] | None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path, encoding="utf-8")
    section = {"setup.cfg": "tool:pytest"}.get(path.name, "pytest")
    if parser.has_section(section):
        return dict(parser.items(section))
    return {} if path.name in ("pytest.ini", ".pytest.ini") else None
