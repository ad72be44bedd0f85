"""Helpers shared by the built-in scorers: output normalisation, optional imports, references.

The output normalisation rule (:func:`to_text`) is implemented here once and used by every text
scorer, so all of them read a non-string output the same way.
"""

from __future__ import annotations

import importlib
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pytest_datasetrun.errors import ConfigError

__all__ = (
    "TEXT_KEYS",
    "to_text",
    "references",
    "require_expected",
    "requires",
    "check_requirements",
    "import_optional",
    "resolve_callable",
    "import_param",
    "path_param",
    "trusted_param",
    "all_checks",
    "strip_punctuation",
    "shorten",
    "clip",
)

#: Keys read, in this order, from a dict output by :func:`to_text`.
TEXT_KEYS = ("text", "content", "output", "answer")

F = TypeVar("F", bound=Callable[..., Any])


def to_text(value: object) -> str:
    """Read a target output (or expected value) as text.

    The rule: a ``str`` is used as is; ``None`` is ``""``; ``bytes`` are decoded as UTF-8; a
    mapping with one of the keys ``text``, ``content``, ``output``, ``answer`` (first present
    wins) is read through that key's value; an object whose ``content`` attribute is a string
    (a LangChain message) gives that string; anything else is ``str(value)``.

    :param value: the output or expected value.
    :returns: its text.
    """
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, Mapping):
        for key in TEXT_KEYS:
            if key in value:
                return to_text(value[key])
        return str(value)
    content = getattr(value, "content", None)
    if isinstance(content, str):
        return content
    return str(value)


def references(expected: object, scorer: str) -> list[str]:
    """Return the reference texts of ``expected``: one, or each element of a list/tuple.

    :param expected: the row's expected value.
    :param scorer: the scorer's id, for the error message.
    :raises ValueError: when ``expected`` is missing or an empty list.
    """
    require_expected(expected, scorer)
    if isinstance(expected, (list, tuple)):
        if not expected:
            raise ValueError(f"scorer '{scorer}' got an empty list as expected value")
        return [to_text(ref) for ref in expected]
    return [to_text(expected)]


def require_expected(expected: object, scorer: str, what: str = "an expected value") -> None:
    """Raise ``ValueError`` when the row has no expected value (the scorer cannot score).

    :param expected: the row's expected value.
    :param scorer: the scorer's id, for the error message.
    :param what: what the scorer needs, for the error message.
    """
    if expected is None:
        raise ValueError(f"scorer '{scorer}' needs {what}, but the row has no 'expected'")


def requires(module: str, extra: str, hint: str | None = None) -> Callable[[F], F]:
    """Mark a scorer as needing an optional module, installed by a ``pytest-datasetrun`` extra.

    Sets ``fn.__datasetrun_requires__ = (module, extra[, hint])``; see :func:`check_requirements`.
    ``hint`` replaces the ``pip install`` advice when the extra alone does not install it.
    """

    def mark(fn: F) -> F:
        marked = (module, extra) if hint is None else (module, extra, hint)
        fn.__datasetrun_requires__ = marked  # type: ignore[attr-defined]
        return fn

    return mark


def check_requirements(fn: Callable[..., Any], params: Mapping[str, Any] | None = None) -> None:
    """Raise :class:`ConfigError` when a scorer's optional dependency cannot be imported.

    Scorers without ``__datasetrun_requires__`` always pass. A scorer may also list, in
    ``__datasetrun_optional_with__``, params that make the dependency unnecessary
    (``semantic_similarity`` with its own ``embedder``); pass the configured ``params`` so
    that is taken into account.

    :param fn: a scorer function.
    :param params: the parameters the scorer is configured with, if known.
    :raises ConfigError: naming the extra to install.
    """
    required = getattr(fn, "__datasetrun_requires__", None)
    if not required:
        return
    if params and any(params.get(name) is not None for name in _optional_with(fn)):
        return
    module, extra, *hint = required
    import_optional(module, getattr(fn, "__name__", repr(fn)), extra, *hint)


def _optional_with(fn: Callable[..., Any]) -> tuple[str, ...]:
    return tuple(getattr(fn, "__datasetrun_optional_with__", ()))


def import_optional(module: str, scorer: str, extra: str, hint: str | None = None) -> Any:
    """Import ``module`` or raise :class:`ConfigError` naming the extra that installs it.

    :param module: the module to import.
    :param scorer: the scorer's id, for the error message.
    :param extra: the ``pytest-datasetrun`` extra that installs the module.
    :param hint: the install advice, when it is not just the extra.
    """
    try:
        importlib.import_module(module.partition(".")[0])  # a blocked package hides its submodules
        return importlib.import_module(module)
    except ImportError as exc:
        advice = hint or f"pip install 'pytest-datasetrun[{extra}]'"
        raise ConfigError(f"scorer '{scorer}' needs {module.split('.')[0]}: {advice}") from exc


def resolve_callable(ref: object, param: str, scorer: str) -> Callable[..., Any]:
    """Return ``ref`` if callable, or import a ``"module:attr"`` (``"module:a.b"``) reference.

    :param ref: a callable or a ``"module:attr"`` string.
    :param param: the parameter's name, for the error message.
    :param scorer: the scorer's id, for the error message.
    :raises ConfigError: when the reference does not resolve to a callable.
    """
    if callable(ref):
        return ref
    if not isinstance(ref, str) or ":" not in ref:
        raise ConfigError(
            f"scorer '{scorer}': {param} must be a callable or a 'module:attr' string, got {ref!r}"
        )
    module_name, _, attr_path = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for attr in attr_path.split("."):
            obj = getattr(obj, attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"scorer '{scorer}': cannot import {param} {ref!r}: {exc}") from exc
    if not callable(obj):
        raise ConfigError(f"scorer '{scorer}': {param} {ref!r} is not callable")
    resolved: Callable[..., Any] = obj
    return resolved


def import_param(
    name: str, *, not_imports: tuple[str, ...] = ()
) -> Callable[[Mapping[str, Any]], str | None]:
    """A check for parameters from a data file: ``name`` must not be a ``"module:attr"`` import.

    Set the result as the scorer's ``__datasetrun_data_check__``; the registry refuses such a
    parameter in a dataset file unless the user trusts it.

    :param name: the parameter :func:`resolve_callable` imports.
    :param not_imports: prefixes that are not import paths (``"openai:"`` for a model name).
    """

    def check(params: Mapping[str, Any]) -> str | None:
        value = params.get(name)
        if isinstance(value, str) and ":" in value and not value.startswith(not_imports):
            return f"{name}={value!r} names code to import"
        return None

    return check


def path_param(name: str) -> Callable[[Mapping[str, Any]], str | None]:
    """A check for parameters from a data file: the file ``name`` names stays in the working directory."""

    def check(params: Mapping[str, Any]) -> str | None:
        value = params.get(name)
        if isinstance(value, str) and (os.path.isabs(value) or ".." in re.split(r"[\\/]", value)):
            return f"{name}={value!r} is a file outside the working directory"
        return None

    return check


def trusted_param(name: str, why: str) -> Callable[[Mapping[str, Any]], str | None]:
    """A check for parameters from a data file: ``name`` may only come from a trusted place.

    :param why: what the parameter would let the file do, for the message.
    """

    def check(params: Mapping[str, Any]) -> str | None:
        value = params.get(name)
        return None if value is None else f"{name}={value!r} {why}"

    return check


def all_checks(
    *checks: Callable[[Mapping[str, Any]], str | None],
) -> Callable[[Mapping[str, Any]], str | None]:
    """One data-file check made of several: the first problem found, or None."""

    def check(params: Mapping[str, Any]) -> str | None:
        return next((p for p in (c(params) for c in checks) if p), None)

    return check


def strip_punctuation(text: str) -> str:
    """Remove every Unicode punctuation character (categories ``P*``) from ``text``."""
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))


def shorten(text: str, limit: int = 60) -> str:
    """Return ``repr(text)``, cut to about ``limit`` characters, for reasons and metadata."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + f"... ({len(text)} chars)"


def clip(text: str, limit: int = 40) -> str:
    """Return ``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
