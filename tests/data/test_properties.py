"""Property-based tests (issue 11): every loader round-trips rows; no two rows share a node id."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_datasetrun.data.dataset import load_dataset
from pytest_datasetrun.data.ids import slugify, unique_slugs
from pytest_datasetrun.record.results import jsonable

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
ids = st.text(min_size=1, max_size=30)


@st.composite
def rows(draw, value=values):
    row_ids = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    return [
        {
            "id": row_id,
            "input": draw(value),
            "expected": draw(value),
            "metadata": draw(st.dictionaries(st.text(max_size=8), value, max_size=3)),
            "tags": draw(st.lists(st.text(min_size=1, max_size=8), max_size=3)),
        }
        for row_id in row_ids
    ]


def check(dataset, written):
    assert [item.id for item in dataset.items] == [row["id"] for row in written]
    for item, row in zip(dataset.items, written, strict=True):
        for field in ("input", "expected", "metadata", "tags"):
            assert getattr(item, field) == row[field], field
            # what the run record stores is the same value
            assert jsonable(getattr(item, field)) == row[field], field
    slugs = [item.slug for item in dataset.items]
    assert len(set(slugs)) == len(slugs)


@SETTINGS
@given(written=rows())
def test_jsonl_round_trips(tmp_path, written):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in written), "utf-8")
    check(load_dataset(path), written)


@SETTINGS
@given(written=rows())
def test_json_round_trips(tmp_path, written):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"name": "n", "items": written}, indent=1), "utf-8")
    check(load_dataset(path), written)


@SETTINGS
@given(written=rows())
def test_yaml_round_trips(tmp_path, written):
    path = tmp_path / "d.yaml"
    # allow_unicode=False: PyYAML would write U+0085 raw, which YAML reads as a line break
    path.write_text(yaml.safe_dump(written), "utf-8")
    check(load_dataset(path), written)


cells = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=30
)


@SETTINGS
@given(
    table=st.lists(
        st.tuples(ids.filter(lambda s: "\x00" not in s), cells, cells.filter(bool)),
        min_size=1,
        max_size=6,
        unique_by=lambda row: row[0],
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_csv_round_trips(tmp_path, table, delimiter):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["id", "input", "expected"])
    writer.writerows(table)
    path = tmp_path / "d.csv"
    path.write_text(buffer.getvalue(), "utf-8", newline="")
    dataset = load_dataset(path)
    assert [(i.id, i.input, i.expected) for i in dataset.items] == [tuple(r) for r in table]


def _safe(slug):
    return not any(
        ch.isspace() or unicodedata.category(ch)[0] in "CZ" or ch in ":/\\[]" for ch in slug
    )


@settings(max_examples=300, deadline=None)
@given(raw_ids=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=12, unique=True))
def test_no_two_rows_share_a_node_id(raw_ids):
    slugs = unique_slugs(raw_ids)
    assert len(set(slugs)) == len(slugs)
    assert all(_safe(slug) and slug for slug in slugs)
    for raw, slug in zip(raw_ids, slugs, strict=True):
        if slugify(raw) == raw:
            assert slug == raw  # a safe id is its own node id
        assert slug == raw or slug not in raw_ids  # never another row's raw id


@settings(max_examples=200, deadline=None)
@given(
    raw_ids=st.lists(
        st.sampled_from(["a b", "a_b", "a_b-7dbde9", "a:b", "a/b", "a[b]", "a\tb", "a__b"]),
        min_size=1,
        unique=True,
    ),
    data=st.data(),
)
def test_slugs_do_not_depend_on_row_order(raw_ids, data):
    shuffled = data.draw(st.permutations(raw_ids))
    by_raw = dict(zip(raw_ids, unique_slugs(raw_ids), strict=True))
    assert [by_raw[raw] for raw in shuffled] == unique_slugs(list(shuffled))
    assert len(set(by_raw.values())) == len(raw_ids)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(written=rows())
def test_rows_round_trip_into_the_run_record(tmp_path, written):
    from pytest_datasetrun.api import run_dataset

    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in written), "utf-8")
    record = run_dataset(str(path), lambda input: input)
    assert [item.item_id for item in record.items] == [row["id"] for row in written]
    for item, row in zip(record.items, written, strict=True):
        assert (item.input, item.expected, item.output) == (
            row["input"],
            row["expected"],
            row["input"],
        )


def _slow_slug(raw: str) -> str:
    """``slugify`` without its fast path for printable ASCII: every character classified."""
    import re

    from pytest_datasetrun.data import ids

    cleaned = "".join("_" if ids._unsafe(char) else char for char in raw)
    slug = re.sub("_{2,}", "_", ids._STRUCTURE.sub("_", cleaned)).strip("_") or "_"
    if len(slug) > ids._MAX_SLUG:
        slug = f"{slug[: ids._MAX_SLUG - 7]}-{ids._hash(raw, 6)}"
    return slug


@settings(max_examples=400, deadline=None)
@given(raw=st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=100) | st.text(max_size=30))
def test_the_fast_slug_path_names_a_row_as_the_full_rules_do(raw):
    assert slugify(raw) == _slow_slug(raw)


@settings(max_examples=300, deadline=None)
@given(value=values | st.dictionaries(st.text(max_size=8), values, max_size=5))
def test_the_quick_value_check_never_hides_a_problem(value):
    from pytest_datasetrun.data import limits

    if limits._clean(value):
        stack = [value]
        while stack:  # nothing a recorded run could not hold: no NaN, no huge integer
            current = stack.pop()
            assert limits._scalar_problem(current) is None
            if isinstance(current, dict):
                stack.extend(current.values())
            elif isinstance(current, list):
                stack.extend(current)
