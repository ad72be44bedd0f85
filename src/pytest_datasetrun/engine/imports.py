"""``module:attr`` references: importing them for the user, refusing them where a data file named them.

Datasets are data: they are downloaded, shared and contributed. A scorer reference is imported
and called, so a dataset file that could name ``os:system`` or ``builtins:eval`` could run code.
Only the command line, the ini file and conftest/plugin code may name code by import path; a
dataset file may name registered and built-in scorers, unless the user trusts it
(``--trust-dataset-imports`` or the ini key ``datasetrun_trust_dataset_imports``).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pytest_datasetrun.errors import ConfigError, describe_exception

__all__ = ("import_object", "user_frames", "refuse_import", "check_data_params", "TRUST_HINT")

TRUST_HINT = (
    "if you trust this file, pass --trust-dataset-imports "
    "(or set datasetrun_trust_dataset_imports = true in the ini file)"
)
# Frames of these never point at the user's mistake.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MAX_FRAMES = 3


def import_object(ref: str, label: str, *, search: Path | None = None) -> Any:
    """Import ``package.module:attr.sub``; every failure is a :class:`ConfigError` naming ``ref``.

    An exception raised by the module itself is shown with the user's own frames (file, line,
    code), not with the import machinery's. A top-level module that is not on ``sys.path`` but
    sits in ``search`` (the rootdir) is imported from there, as ``python -m pytest`` finds
    modules in the current directory.
    """
    module_name, _, attr_path = ref.partition(":")
    if not module_name.strip() or not attr_path.strip() or module_name.startswith("."):
        raise ConfigError(f"{label} {ref!r} is not an import path of the form package.module:attr")
    try:
        obj: Any = _import(module_name, search)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise ConfigError(
                f"{label} {ref!r}: cannot import module {module_name!r} ({exc}).{_path_hint(exc)}"
            ) from None
        raise ConfigError(_import_failure(ref, label, module_name, exc)) from None
    except Exception as exc:  # noqa: BLE001 - the user's module may raise anything on import
        raise ConfigError(_import_failure(ref, label, module_name, exc)) from None
    for attr in attr_path.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise ConfigError(
                f"{label} {ref!r}: module {module_name!r} has no attribute {attr_path!r}"
            ) from None
    return obj


def _import(module_name: str, search: Path | None) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = module_name.split(".")[0]
        if search is None or exc.name != top or str(search) in sys.path:
            raise
        if not ((search / f"{top}.py").is_file() or (search / top).is_dir()):
            raise
    sys.path.insert(0, str(search))
    return importlib.import_module(module_name)


def _path_hint(exc: ModuleNotFoundError) -> str:
    if exc.name and "." in exc.name:
        return ""
    return (
        " Is it on the import path? Run `python -m pytest` from the directory that holds it, "
        "or set `pythonpath = .` in the pytest ini file."
    )


def _import_failure(ref: str, label: str, module_name: str, exc: BaseException) -> str:
    lines = [f"{label} {ref!r}: importing module {module_name!r} raised {_describe(exc)}"]
    lines.extend(f"  {frame}" for frame in user_frames(exc))
    return "\n".join(lines)


def _describe(exc: BaseException) -> str:
    return describe_exception(exc, exc.msg if isinstance(exc, SyntaxError) else None)


def user_frames(exc: BaseException) -> list[str]:
    """The innermost frames of ``exc`` in the user's code, as ``path:line in name: code``."""
    frames = [
        f"{_shown(f.filename)}:{f.lineno} in {f.name}: {(f.line or '').strip()}"
        for f in traceback.extract_tb(exc.__traceback__)
        if _is_user_file(f.filename)
    ]
    if isinstance(exc, SyntaxError) and exc.filename:
        frames.append(f"{_shown(exc.filename)}:{exc.lineno}: {(exc.text or '').strip()}")
    return frames[-_MAX_FRAMES:]


def _is_user_file(filename: str) -> bool:
    return not (
        filename.startswith("<")
        or filename.startswith(_PACKAGE_DIR)
        or "importlib" in filename
        or f"{os.sep}_pytest{os.sep}" in filename
        or f"{os.sep}pluggy{os.sep}" in filename
    )


def _shown(filename: str) -> str:
    try:
        relative = os.path.relpath(filename)
    except ValueError:
        return filename
    return filename if relative.startswith("..") else relative


def refuse_import(source: str, what: str, ref: str) -> ConfigError:
    """The error for an import path a dataset file named without the user's trust."""
    return ConfigError(
        f"{source}: {what} {ref!r} is an import path (module:attr); a dataset file may only name "
        "registered or built-in scorers, because importing what a file names would run code it "
        "chose. Register it in a conftest.py or plugin (@pytest_datasetrun.scorer) and name it by "
        f"id, give it with --scorer, or, {TRUST_HINT}"
    )


def check_data_params(
    fn: Callable[..., Any], params: Mapping[str, Any], source: str, scorer: str
) -> None:
    """Refuse parameters from a data file that would make ``fn`` import code or read any file.

    A scorer declares them in ``__datasetrun_data_check__``: a function of its params returning
    a description of the problem (e.g. ``model='os:system' names code to import``) or None.
    """
    check = getattr(fn, "__datasetrun_data_check__", None)
    problem = check(params) if check is not None else None
    if problem:
        raise ConfigError(
            f"{source}: scorer {scorer!r}: {problem}; a dataset file may not make a scorer import "
            "code, read files outside the working directory or send rows to a server it chooses. Give the parameter with --scorer "
            f"or in the ini file, or, {TRUST_HINT}"
        )
