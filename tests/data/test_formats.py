"""Format details of issue 11: line breaks, long cells, duplicate keys, NaN, empty files, ids."""

from __future__ import annotations

import json

import pytest

from pytest_datasetrun.data.dataset import load_dataset
from pytest_datasetrun.data.ids import slugify, unique_slugs
from pytest_datasetrun.data.settings import LoadSettings
from pytest_datasetrun.errors import DatasetError


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def error(path, **settings):
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path, display=path.name, settings=LoadSettings(**settings))
    return str(excinfo.value)


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\u0085", "\x0b", "\x0c"])
def test_jsonl_strings_keep_unicode_line_separators(tmp_path, char):
    row = {"id": "a", "input": f"one{char}two"}
    path = write(tmp_path, "d.jsonl", json.dumps(row, ensure_ascii=False) + "\n")
    assert load_dataset(path).items[0].input == f"one{char}two"


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_jsonl_line_endings_lf_crlf_and_old_mac_cr(tmp_path, ending):
    path = write(tmp_path, "d.jsonl", ending.join(['{"input": 1}', '{"input": 2}', '{"input": {']))
    assert "d.jsonl, line 3, row 3: invalid JSON" in error(path)


def test_csv_cell_of_200_kb_loads_and_lines_stay_right(tmp_path):
    big = "x" * 200_000
    path = write(tmp_path, "d.csv", f'id,input\na,"{big}"\nb,"multi\nline"\nc,ok,extra\n')
    message = error(path)
    assert "d.csv, line 5, row 3: more cells than header columns" in message
    path = write(tmp_path, "ok.csv", f'id,input\na,"{big}"\nb,"multi\nline"\n')
    items = load_dataset(path).items
    assert [item.line for item in items] == [2, 3] and items[0].input == big


def test_csv_short_row_is_an_error_naming_the_missing_field(tmp_path):
    path = write(tmp_path, "d.csv", "id,input,expected\na,hi,hello\nb\n")
    assert "d.csv, line 3, row 2, field 'input': fewer cells than header columns" in error(path)


def test_csv_short_row_with_tags_column(tmp_path):
    path = write(tmp_path, "d.csv", "id,input,tags\na,hi\n")
    assert "line 2, row 1, field 'tags': fewer cells" in error(path)


@pytest.mark.parametrize("header", ["input,input", "id,input,Input", "input,x,x"])
def test_csv_duplicate_headers(tmp_path, header):
    path = write(tmp_path, "d.csv", header + "\n" + ",".join("v" * len(header.split(","))) + "\n")
    assert "d.csv, line 1, field" in error(path) and "duplicate column" in error(path)


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("d.jsonl", '{"input": 1, "input": 2}\n', "line 1, row 1, field 'input'"),
        ("d.json", '[{"input": 1},\n {"input": {"a": 1, "a": 2}}]', "line 2, row 2, field 'a'"),
        ("d.json", '{"name": "x", "name": "y", "items": []}', "field 'name'"),
        ("d.yaml", "- input: 1\n- input: 2\n  input: 3\n", "line 3, field 'input'"),
    ],
)
def test_duplicate_keys_are_errors(tmp_path, name, text, where):
    message = error(write(tmp_path, name, text))
    assert where in message and "duplicate key" in message


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("d.jsonl", '{"input": NaN}\n', "line 1, row 1, field 'input'"),
        ("d.json", '[{"input": "x", "expected": [1, Infinity]}]', "row 1, field 'expected.1'"),
        ("d.yaml", "- input: x\n  metadata: {k: .nan}\n", "row 1, field 'metadata.k'"),
        ("d.yaml", "- input: -.inf\n", "row 1, field 'input'"),
    ],
)
def test_nan_and_infinity_are_errors_naming_the_field(tmp_path, name, text, where):
    message = error(write(tmp_path, name, text))
    assert where in message and "write it as a string" in message


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("d.jsonl", ""),
        ("d.jsonl", "\n  \n"),
        ("d.csv", ""),
        ("d.csv", "input,expected\n"),
        ("d.yaml", ""),
        ("d.yaml", "# nothing\n"),
        ("d.json", ""),
        ("d.json", "[]"),
        ("d.yaml", "items: []\n"),
    ],
)
def test_empty_files_are_errors_naming_the_file(tmp_path, name, text):
    message = error(write(tmp_path, name, text))
    assert message.startswith(f"{name}: ") and ("empty" in message or "no rows" in message)


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{refs}]")
    text = "items:\n  - input: *a9\n" + "\n".join(f"# {line}" for line in lines)
    bomb = "\n".join(lines) + "\nitems:\n  - input: *a9\n"
    message = error(write(tmp_path, "bomb.yaml", bomb))
    assert "bomb.yaml, line" in message and "alias bomb" in message
    assert text  # the commented copy is only documentation of the shape


def test_yaml_recursive_alias_and_deep_nesting(tmp_path):
    assert "refers to the node that contains it" in error(
        write(tmp_path, "r.yaml", "- &row {input: x, metadata: {self: *row}}\n")
    )
    deep = "- input: " + "[" * 150 + "]" * 150 + "\n"
    assert "nested deeper than 100 levels" in error(write(tmp_path, "d.yaml", deep))


def test_yaml_aliases_within_bounds_still_work(tmp_path):
    text = "- input: &q {text: hi}\n  expected: x\n- input: *q\n  expected: y\n"
    items = load_dataset(write(tmp_path, "d.yaml", text)).items
    assert items[0].input == items[1].input == {"text": "hi"}


@pytest.mark.parametrize("depth", [150, 1200, 100_000])
def test_json_nesting_is_bounded(tmp_path, depth):
    text = '{"input": ' + "[" * depth + "]" * depth + "}\n"
    message = error(write(tmp_path, "d.jsonl", text))
    assert "d.jsonl, line 1, row 1" in message and "nested" in message


@pytest.mark.parametrize("name", ["d.jsonl", "d.json", "d.yaml"])
def test_integers_over_4300_digits(tmp_path, name):
    number = "9" * 5000
    text = {
        "d.jsonl": f'{{"input": {number}}}\n',
        "d.json": f'[{{"input": {number}}}]',
        "d.yaml": f"- input: {number}\n",
    }[name]
    message = error(write(tmp_path, name, text))
    assert message.startswith(name) and "4300 digits" in message


def test_non_utf8_names_a_guess_and_the_fix(tmp_path):
    path = write(tmp_path, "d.csv", "Question;Answer\nCaf\xe9 ?;2,50 €\n".encode("cp1252"))
    message = error(path)
    assert "d.csv, line 2: is not utf-8 text" in message
    assert "cp1252" in message and "--dataset-encoding=cp1252" in message


def test_cp1252_semicolon_csv_with_capitalised_headers(tmp_path):
    text = 'ID;Input;Expected\nq1;"Caf\xe9; cr\xe8me";2,50 €\n'
    path = write(tmp_path, "d.csv", text.encode("cp1252"))
    item = load_dataset(path, settings=LoadSettings(encoding="cp1252")).items[0]
    assert (item.id, item.input, item.expected) == ("q1", "Café; crème", "2,50 €")


def test_tab_separated(tmp_path):
    path = write(tmp_path, "d.tsv", "input\texpected\na, b\tc\n")
    assert load_dataset(path).items[0].input == "a, b"


def test_json_cells_when_asked(tmp_path):
    path = write(tmp_path, "d.csv", 'input,expected\n"{""q"": 1}","[1, 2]"\n')
    item = load_dataset(path, settings=LoadSettings(json_cells=("input", "expected"))).items[0]
    assert (item.input, item.expected) == ({"q": 1}, [1, 2])
    assert load_dataset(path).items[0].input == '{"q": 1}'
    bad = write(tmp_path, "b.csv", "input\nnot json\n")
    assert "line 2, row 1, field 'input': invalid JSON in cell" in error(bad, json_cells=("input",))


def test_slugs_keep_letters_and_replace_only_structure():
    assert slugify("首都-法国") == "首都-法国"
    assert slugify("café au lait") == "café_au_lait"
    assert slugify("a::b/c[1]\\d") == "a_b_c_1_d"
    assert slugify("tab\there\x1bzero\u200bwidth") == "tab_here_zero_width"


def test_slugs_never_collide_with_a_raw_id_or_another_slug():
    slugs = unique_slugs(["a b", "a_b", "a_b-7dbde9"])
    assert len(set(slugs)) == 3 and slugs[1:] == ["a_b", "a_b-7dbde9"]
    assert unique_slugs(["a_b-7dbde9", "a_b", "a b"]) == slugs[::-1]


def test_rows_with_colliding_slugs_get_distinct_node_ids(project):
    project.dataset(
        [{"id": "a b", "input": 1}, {"id": "a_b", "input": 2}, {"id": "a_b-7dbde9", "input": 3}]
    )
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--collect-only", "-q")
    ids = [line for line in result.stdout.lines if line.startswith("qa.jsonl::")]
    assert len(ids) == len(set(ids)) == 3


def test_unicode_ids_in_node_ids_run_and_record(project):
    project.dataset([{"id": "首都-法国", "input": "Paris", "expected": "Paris"}])
    result = project.run("--dataset=qa.jsonl", "--target=echo", "--scorer=exact_match>=1", "-v")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["qa.jsonl::首都-法国 PASSED*"])


def test_json_line_numbers_stay_linear_on_a_large_file(tmp_path):
    rows = [{"id": str(i), "input": "x"} for i in range(50_000)]
    path = write(tmp_path, "d.json", json.dumps(rows, indent=1))
    items = load_dataset(path).items
    assert items[-1].line == 1 + 4 * 49_999 + 1  # "[" line, then 4 lines per row
