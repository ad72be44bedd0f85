"""Stable, node-id-safe item ids.

Rules (see notes on pytest 9.2 node ids): an item name must not contain ``[``, ``]``, ``::``
or whitespace, and must be the same on every xdist worker. Raw ids are kept on the model.
"""

from __future__ import annotations

import hashlib
import json
import re

__all__ = ("content_id", "slugify", "unique_slugs")

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")
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
    return "row-" + hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:10]


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:6]


def slugify(raw: str) -> str:
    """Replace every run of unsafe characters by ``_``; long ids are cut and hashed."""
    slug = _UNSAFE.sub("_", raw).strip("_") or "_"
    if len(slug) > _MAX_SLUG:
        slug = f"{slug[: _MAX_SLUG - 7]}-{_short_hash(raw)}"
    return slug


def unique_slugs(raw_ids: list[str]) -> list[str]:
    """Slug every raw id; ids whose slugs collide get a hash of their raw id appended.

    The result depends only on the set of raw ids, never on their order.
    """
    slugs = [slugify(raw) for raw in raw_ids]
    seen: dict[str, int] = {}
    for slug in slugs:
        seen[slug] = seen.get(slug, 0) + 1
    return [
        f"{slug}-{_short_hash(raw)}" if seen[slug] > 1 and slug != raw else slug
        for raw, slug in zip(raw_ids, slugs, strict=True)
    ]
