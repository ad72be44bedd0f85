"""The ``cache stats`` and ``cache clear`` commands: inspect and prune the target-call cache."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from pytest_datasetrun.cli.common import EXIT_OK
from pytest_datasetrun.engine.cache import CallCache
from pytest_datasetrun.errors import ConfigError

__all__ = ("parse_age", "register")

DEFAULT_DIR = ".datasetrun/cache"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``cache stats`` and ``cache clear``."""
    cmd = subparsers.add_parser("cache", help="inspect or clear the target-call cache (--cache)")
    sub = cmd.add_subparsers(title="cache commands", metavar="ACTION")
    stats = sub.add_parser("stats", help="entries per target, size and age")
    stats.add_argument("--json", action="store_true", help="print the figures as JSON")
    clear = sub.add_parser("clear", help="delete entries (all, or by age and target)")
    clear.add_argument("--older-than", metavar="AGE", help="only entries older than AGE (7d, 12h)")
    clear.add_argument("--target", metavar="ID", help="only this target's entries")
    for parser in (stats, clear):
        parser.add_argument("--dir", default=DEFAULT_DIR, help=f"cache directory ({DEFAULT_DIR})")
    stats.set_defaults(func=run_stats)
    clear.set_defaults(func=run_clear)
    cmd.set_defaults(func=lambda args: run_stats(argparse.Namespace(dir=DEFAULT_DIR, json=False)))


def parse_age(text: str) -> float:
    """``7d``, ``12h``, ``30m``, ``45s`` or ``2w`` in seconds."""
    match = _AGE.match(text)
    if match is None:
        raise ConfigError(f"--older-than: {text!r} is not an age such as 7d, 12h, 30m or 2w")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_stats(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    cache = CallCache(Path(args.dir))
    if not cache.path.exists() and not args.json:
        print(f"no cache in {args.dir}: nothing cached yet (pytest --cache creates it)", file=out)
        return EXIT_OK
    stats = cache.stats()
    if cache.broken is not None:
        raise ConfigError(cache.broken.removesuffix("; running without it"))
    if args.json:
        data = {
            "path": str(stats.path),
            "entries": stats.entries,
            "size_bytes": stats.size_bytes,
            "targets": stats.per_target,
            "oldest": stats.oldest,
            "newest": stats.newest,
        }
        print(json.dumps(data, indent=2), file=out)
        return EXIT_OK
    print(
        f"cache {stats.path}: {stats.entries} entries, {stats.size_bytes / 1024:.1f} KiB", file=out
    )
    if stats.entries:
        print(f"  oldest {_when(stats.oldest)}, newest {_when(stats.newest)}", file=out)
    for target, count in sorted(stats.per_target.items()):
        print(f"  {target}: {count}", file=out)
    return EXIT_OK


def run_clear(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    age = parse_age(args.older_than) if args.older_than else None
    deleted = CallCache(Path(args.dir)).clear(older_than=age, target=args.target)
    scope = [f"older than {args.older_than}"] if age is not None else []
    scope += [f"of target {args.target!r}"] if args.target else []
    print(
        f"deleted {deleted} entries{' ' + ' '.join(scope) if scope else ''} from {args.dir}",
        file=out,
    )
    return EXIT_OK


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
