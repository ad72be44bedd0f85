"""Finding targets and scorers: hooks, decorated objects in conftests/plugins, entry points,
built-ins and ``module:attr`` paths; resolved by id first, then by name, then by import path."""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pytest_datasetrun.engine.imports import (
    check_data_params,
    import_object,
    refuse_import,
    user_frames,
)
from pytest_datasetrun.engine.scorer import Scorer, as_scorer
from pytest_datasetrun.engine.spec import ScorerSpec, SpecList, parse_spec
from pytest_datasetrun.engine.targets import Target, as_target
from pytest_datasetrun.errors import ConfigError

__all__ = ("Registry", "import_object", "TARGET_GROUP", "SCORER_GROUP")


TARGET_GROUP = "pytest_datasetrun.targets"
SCORER_GROUP = "pytest_datasetrun.scorers"
T = TypeVar("T", Target, Scorer)


@dataclass
class _Kind(Generic[T]):
    label: str
    group: str
    convert: Callable[[Any], T]
    known: list[T] = field(default_factory=list)
    entry_points_loaded: bool = False

    def add(self, values: Iterable[Any], origin: str) -> None:
        for value in values:
            try:
                self.known.append(self.convert(value))
            except TypeError as exc:
                raise ConfigError(f"{origin} registered an invalid {self.label}: {exc}") from None

    def find(self, ref: str) -> T | None:
        for attr in ("id", "name"):
            for candidate in self.known:
                if getattr(candidate, attr) == ref:
                    return candidate
            if not self.entry_points_loaded:
                self.load_entry_points()
                return self.find(ref)
        return None

    def load_entry_points(self) -> None:
        self.entry_points_loaded = True
        for ep in importlib.metadata.entry_points(group=self.group):
            where = f"the {self.label} entry point '{ep.name}' ({ep.value})"
            try:
                loaded = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken package must not hide the others
                frames = "".join(f"\n  {frame}" for frame in user_frames(exc))
                raise ConfigError(
                    f"{where} cannot be loaded: {type(exc).__name__}: {exc}{frames}"
                ) from None
            values = loaded if isinstance(loaded, (list, tuple)) else [loaded]
            converted = [_converted(self.convert, v, where, self.label) for v in values]
            if len(converted) == 1 and converted[0].id != ep.name:
                converted = [_with_id(converted[0], ep.name)]
            self.known.extend(converted)

    def listing(self) -> str:
        if not self.entry_points_loaded:
            self.load_entry_points()
        if not self.known:
            return f"no {self.label}s are registered"
        rows = [f"{c.id}" + (f" (name: {c.name})" if c.name != c.id else "") for c in self.known]
        return f"registered {self.label}s: " + ", ".join(rows)

    def unknown(self, ref: str, hint: str) -> ConfigError:
        names = list(dict.fromkeys([c.id for c in self.known] + [c.name for c in self.known]))
        close = difflib.get_close_matches(ref, names, n=3)
        maybe = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return ConfigError(f"unknown {self.label} {ref!r}.{maybe} {self.listing()}. {hint}")


def _with_id(value: Any, ident: str) -> Any:
    from dataclasses import replace

    return replace(value, id=ident, name=value.name if value.name != value.id else ident)


class Registry:
    """All targets and scorers visible to one pytest process."""

    def __init__(self) -> None:
        self.targets: _Kind[Target] = _Kind("target", TARGET_GROUP, as_target)
        self.scorers: _Kind[Scorer] = _Kind("scorer", SCORER_GROUP, as_scorer)

    @classmethod
    def discover(
        cls, plugins: Iterable[object], hook_targets: Iterable[Any], hook_scorers: Iterable[Any]
    ) -> Registry:
        """Collect from hook results, decorated objects in plugin/conftest namespaces, and built-ins."""
        registry = cls()
        registry.targets.add(hook_targets, "the pytest_datasetrun_targets hook")
        registry.scorers.add(hook_scorers, "the pytest_datasetrun_scorers hook")
        for plugin in plugins:
            if not inspect.ismodule(plugin):
                continue
            for value in list(vars(plugin).values()):
                if isinstance(value, Target) or (
                    inspect.isroutine(value) and hasattr(value, "__datasetrun_target__")
                ):
                    registry.targets.add([value], plugin.__name__)
                elif (
                    inspect.isroutine(value)
                    and hasattr(value, "__datasetrun_scorer__")
                    or isinstance(value, Scorer)
                ):
                    registry.scorers.add([value], plugin.__name__)
        registry.targets.known = _dedupe(registry.targets.known)
        registry.scorers.known = _dedupe(registry.scorers.known)
        from pytest_datasetrun.scorers import BUILTINS

        # After the user's own, so that a user scorer with a built-in's id wins.
        registry.scorers.add(
            [as_scorer(fn, id=ident) for ident, fn in BUILTINS.items()], "built-in scorers"
        )
        return registry

    def resolve_target(self, ref: str, *, search: Path | None = None) -> Target:
        """The target ``ref`` names; ``module:attr`` modules are also looked for in ``search``."""
        found = self.targets.find(ref)
        if found is None and ":" in ref:
            found = _imported(ref, "target", as_target, search=search)
        if found is None:
            raise self.targets.unknown(
                ref,
                "Register targets in the rootdir conftest.py or a plugin (@pytest_datasetrun.target, the "
                "pytest_datasetrun_targets hook, or the 'pytest_datasetrun.targets' entry point), or pass module:attr.",
            )
        found.check()
        return found

    def resolve_scorer(
        self, value: Any, *, source: str = "--scorer", trusted: bool = True
    ) -> Scorer:
        """Resolve a spec string/mapping, a :class:`ScorerSpec`, a Scorer or a function into a bound Scorer.

        :param trusted: False for specs from a dataset file: those may name only registered and
            built-in scorers, and no parameter that imports code (see :mod:`.imports`).
        """
        if isinstance(value, Scorer) or callable(value):
            return as_scorer(value)
        spec = value if isinstance(value, ScorerSpec) else parse_spec(value, source=source)
        base = self.scorers.find(spec.ref)
        if base is None and ":" in spec.ref:
            if not trusted:
                raise refuse_import(source, "scorer", spec.ref)
            base = _imported(spec.ref, "scorer", as_scorer)
        if base is None:
            raise self.scorers.unknown(spec.ref, f"(from {source})")
        if not trusted:
            check_data_params(base.fn, spec.params, source, base.id)
        allowed = base.param_names
        if allowed is not None:
            for key in spec.params:
                if key not in allowed:
                    raise ConfigError(
                        f"{source}: scorer {base.id!r} has no parameter {key!r}; its parameters are "
                        + (", ".join(allowed) or "(none)")
                    )
        return base.bind(spec.params, spec.threshold, spec.alias)

    def resolve_scorers(
        self, sources: Iterable[SpecList | tuple[str, Iterable[Any]]]
    ) -> list[Scorer]:
        """Resolve scorer lists in order; a later scorer with the same key replaces an earlier one.

        :param sources: :class:`SpecList` values, or trusted ``(where the specs come from, specs)``
            pairs; the source is named in error messages.
        """
        chosen: dict[str, Scorer] = {}
        for given in sources:
            specs = given if isinstance(given, SpecList) else SpecList(*given)
            for spec in specs.specs:
                bound = self.resolve_scorer(spec, source=specs.source, trusted=specs.trusted)
                _check_available(bound)
                chosen[bound.key] = bound
        return list(chosen.values())

    def resolve_row_scorers(
        self, base: Iterable[Scorer], specs: Iterable[Any], source: str, *, trusted: bool = False
    ) -> list[Scorer]:
        """A row's own scorers: new keys are added; a known key gets the row's params and threshold.

        :param trusted: rows are data: unless the user trusts the file, they may name only
            registered and built-in scorers.
        """
        known = {s.key: s for s in base}
        out = []
        for spec in specs:
            bound = self.resolve_scorer(spec, source=source, trusted=trusted)
            existing = known.get(bound.key)
            if existing is not None and bound.fn is existing.fn:
                bound = existing.bind(bound.params, bound.threshold, None)
            out.append(bound)
        return out


def _check_available(bound: Scorer) -> None:
    from pytest_datasetrun import scorers

    check = getattr(scorers, "check_requirements", None)
    if check is not None:
        check(bound.fn, bound.params)


def _dedupe(values: list[T]) -> list[T]:
    seen: set[int] = set()
    out = []
    for value in values:
        marker = id(getattr(value, "obj", None) or getattr(value, "fn", None) or value)
        if marker not in seen:
            seen.add(marker)
            out.append(value)
    return out


_EXPECTED = {
    "target": "a callable, an object with invoke/ainvoke, generate/agenerate or run/arun, or a "
    "known framework object; wrap it in a function f(input) that calls it, or give "
    "dr.target(obj, method='...', output='...')",
    "scorer": "a function (output, ...) returning a float in [0, 1], a bool or a Score",
}


def _imported(ref: str, label: str, convert: Callable[..., T], *, search: Path | None = None) -> T:
    """Import ``module:attr`` and make it a target or scorer; a wrong kind of object is a ConfigError."""
    obj = import_object(ref, label, search=search)
    try:
        made = convert(obj, id=ref.rsplit(":", 1)[1])
        if getattr(made, "problem", None) is None:  # a Target that could not be made callable
            return made
    except TypeError:
        pass
    raise ConfigError(
        f"{label} {ref!r} is {_kind_of(obj)}, not a {label}: expected {_EXPECTED[label]}"
    )


def _converted(convert: Callable[..., T], value: Any, where: str, label: str) -> T:
    try:
        return convert(value)
    except TypeError:
        raise ConfigError(
            f"{where} is {_kind_of(value)}, not a {label}: expected {_EXPECTED[label]}"
        ) from None


def _kind_of(obj: Any) -> str:
    if inspect.ismodule(obj):
        return f"the module {obj.__name__!r}"
    text = repr(obj)
    shown = text if len(text) <= 40 else text[:37] + "..."
    name = type(obj).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name} ({shown})"
