"""Stable, node-id-safe item ids.

A row's name in its node id (``qa.jsonl::<slug>``) must be the same on every xdist worker and
must not hold what pytest reads as structure: ``::`` and ``/`` (node id parts), ``[`` and ``]``
(parameters), ``\\``, whitespace and control characters. Everything else is kept, Unicode
letters included (``首都-法国``): pytest accepts Unicode node ids. Raw ids are kept on the model.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter

__all__ = ("content_id", "slugify", "unique_slugs")

_STRUCTURE = re.compile(r"[:/\\\[\]]+")
_MAX_SLUG = 80


def content_id(input_value: object, expected: object) -> str:
    """An id derived from the row's content, so it survives other rows being added or moved."""
    canonical = json.dumps(
        [input_value, expected],
        sort_keys=True,
        ensure_ascii=False,
        default=repr,
        separators=(",", ":"),
    )
    return "row-" + _hash(canonical, 10)


def _hash(text: str, length: int) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def _unsafe(char: str) -> bool:
    # Separators (Z*: spaces, line and paragraph separators) and others (C*: controls, format
    # characters such as zero-width joiners and bidi overrides, surrogates, unassigned).
    return char.isspace() or unicodedata.category(char)[0] in "CZ"


def slugify(raw: str) -> str:
    """Replace every run of unsafe characters by ``_``; long ids are cut and hashed."""
    if raw.isascii() and raw.isprintable():  # the common id: only the space is unsafe
        cleaned = raw.replace(" ", "_")
    else:
        cleaned = "".join("_" if _unsafe(char) else char for char in raw)
    slug = re.sub("_{2,}", "_", _STRUCTURE.sub("_", cleaned)).strip("_") or "_"
    if len(slug) > _MAX_SLUG:
        slug = f"{slug[: _MAX_SLUG - 7]}-{_hash(raw, 6)}"
    return slug


def unique_slugs(raw_ids: list[str]) -> list[str]:
    """Slug every raw id so that no two rows share a slug and no slug is another row's raw id.

    A raw id that is already safe keeps its name; an unsafe one whose slug is taken gets a hash
    of its raw id appended, longer until it is free. The result depends only on the set of raw
    ids, never on their order (issue 11, item 8).
    """
    slugs = {raw: slugify(raw) for raw in raw_ids}
    taken = {raw for raw in raw_ids if slugs[raw] == raw}
    counts = Counter(slugs.values())
    for raw in sorted(raw for raw in raw_ids if slugs[raw] != raw):
        slug = slugs[raw]
        if counts[slug] > 1 or slug in taken:
            slug = _free(slugs[raw], raw, taken)
        taken.add(slug)
        slugs[raw] = slug
    return [slugs[raw] for raw in raw_ids]


def _free(base: str, raw: str, taken: set[str]) -> str:
    for length in range(6, 41, 2):
        slug = f"{base}-{_hash(raw, length)}"
        if slug not in taken:
            return slug
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"
