"""Errors the user can act on: each renders as one paragraph, never as a traceback."""

from __future__ import annotations

__all__ = ("DatasetrunError", "DatasetError", "ConfigError", "StoreError", "describe_exception")


class DatasetrunError(Exception):
    """Base class for user-facing errors; ``str()`` is the whole message."""


class DatasetError(DatasetrunError):
    """A dataset file is missing, malformed, or has a row that fails validation."""

    def __init__(
        self,
        path: object,
        message: str,
        *,
        line: int | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.row = row
        self.field = field
        where = [self.path]
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {row}")
        if field:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}")


class ConfigError(DatasetrunError):
    """An option, target or scorer reference that cannot be resolved or parsed."""


class StoreError(DatasetrunError):
    """The run store cannot be read or written, or a run reference does not resolve."""


def describe_exception(exc: BaseException, text: str | None = None) -> str:
    """``Type: message``, with the type once: a message that already starts with it is kept as is.

    :param exc: the exception.
    :param text: its message, when not ``str(exc)``.
    :returns: e.g. ``AttributeError: 'str' object has no attribute 'x'``, or the bare type name.
    """
    name = type(exc).__name__
    text = str(exc) if text is None else text
    if not text:
        return name
    return text if text.startswith(f"{name}:") else f"{name}: {text}"
