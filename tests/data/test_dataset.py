"""Loading datasets: every format, aliases, ids, and one clear error for each kind of bad input."""

from __future__ import annotations

import json

import pytest

from pytest_datasetrun.data.dataset import load_dataset
from pytest_datasetrun.errors import DatasetError


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_json_object_with_header(tmp_path):
    path = write(
        tmp_path,
        "d.json",
        json.dumps(
            {
                "name": "support",
                "description": "d",
                "scorers": ["exact_match>=1"],
                "items": [
                    {
                        "id": 1,
                        "input": {"q": "x"},
                        "expected_output": "y",
                        "metadata": {"k": 1},
                        "tags": ["a"],
                    }
                ],
            }
        ),
    )
    dataset = load_dataset(path)
    assert dataset.name == "support" and dataset.scorers == ["exact_match>=1"]
    item = dataset.items[0]
    assert (item.id, item.input, item.expected, item.metadata, item.tags) == (
        "1",
        {"q": "x"},
        "y",
        {"k": 1},
        ["a"],
    )
    assert len(dataset.sha256) == 64 and dataset.total == 1


@pytest.mark.parametrize("alias", ["expected", "expected_output", "ground_truth", "groundTruth"])
def test_expected_aliases(tmp_path, alias):
    path = write(tmp_path, "d.jsonl", json.dumps({"input": "x", alias: "y"}) + "\n")
    assert load_dataset(path).items[0].expected == "y"


def test_csv_columns_and_extra_metadata(tmp_path):
    path = write(
        tmp_path, "d.csv", 'id,input,expected,tags,difficulty\nq1,"hi, there",hello,"a;b",hard\n'
    )
    item = load_dataset(path).items[0]
    assert (item.id, item.input, item.expected, item.tags) == (
        "q1",
        "hi, there",
        "hello",
        ["a", "b"],
    )
    assert item.metadata == {"difficulty": "hard"}


def test_yaml_rows_have_lines(tmp_path):
    path = write(
        tmp_path,
        "d.yaml",
        "name: y\nitems:\n  - id: a\n    input: x\n  - id: b\n    input: {k: 1}\n",
    )
    dataset = load_dataset(path)
    assert [i.line for i in dataset.items] == [3, 5]
    assert dataset.items[1].input == {"k": 1}


def test_yaml_is_loaded_safely(tmp_path):
    path = write(tmp_path, "d.yml", "- input: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(DatasetError, match="d.yml"):
        load_dataset(path)


def test_auto_ids_do_not_depend_on_position(tmp_path):
    a = load_dataset(write(tmp_path, "a.jsonl", '{"input": "x"}\n{"input": "y"}\n'))
    b = load_dataset(
        write(tmp_path, "b.jsonl", '{"input": "new"}\n{"input": "y"}\n{"input": "x"}\n')
    )
    assert {i.id for i in a.items} <= {i.id for i in b.items}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("d.jsonl", '{"input": 1}\n{"input": 2\n', "d.jsonl, line 2, row 2: invalid JSON"),
        (
            "d.jsonl",
            '{"id": "a", "input": 1}\n{"id": "a", "input": 2}\n',
            "line 2, row 2, field 'id': duplicate id 'a': also used by row 1 (line 1)",
        ),
        ("d.jsonl", '{"expected": 1}\n', "line 1, row 1, field 'input': required field is missing"),
        (
            "d.jsonl",
            '{"input": 1, "expcted": 2}\n',
            "field 'expcted': unknown field (did you mean 'expected'?)",
        ),
        ("d.jsonl", '{"input": 1, "tags": [1, 2]}\n', "row 1, field 'tags.0'"),
        ("d.jsonl", '{"input": 1, "metadata": []}\n', "field 'metadata'"),
        ("d.jsonl", "[1, 2]\n", "row 1: a row must be an object"),
        ("d.json", '{"items": [}', "d.json, line 1, row 1: invalid JSON"),
        ("d.json", '{"rows": []}', "field 'rows': unknown top-level key"),
        ("d.json", '"just a string"', "expected a list of rows"),
        ("d.csv", "question,answer\nx,y\n", "the CSV header has no 'input' column"),
        ("d.csv", 'input,expected\n"x,y\n', "malformed CSV"),
        ("d.csv", "input\nx,extra\n", "line 2, row 1: more cells than header columns"),
        ("d.yaml", "items:\n  - input: [1, 2\n", "d.yaml, line 3: invalid YAML"),
        ("d.txt", "whatever", "unknown dataset extension '.txt'"),
    ],
)
def test_bad_input_names_file_line_row_field(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(DatasetError) as excinfo:
        load_dataset(path, display=name)
    assert message in str(excinfo.value)
    assert str(excinfo.value).startswith(name)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="nope.jsonl: file not found"):
        load_dataset(tmp_path / "nope.jsonl", display="nope.jsonl")


@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_bad_dataset_is_a_usage_error_without_traceback(project, extra):
    project.dataset([{"input": 1}], name="qa.jsonl")
    (project.path / "qa.jsonl").write_text(
        '{"input": 1}\n{"id": 5, "input": 2, "tags": "x", "oops": 1}\n'
    )
    result = project.run("--dataset=qa.jsonl", "--target=echo", *extra)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: datasetrun: qa.jsonl, line 2, row 2, field 'oops': unknown field*"]
    )
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_missing_dataset_file_is_a_usage_error(project):
    result = project.run("--dataset=missing.jsonl", "--target=echo")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: datasetrun: missing.jsonl: file not found"])


def test_csv_tags_cell_with_bad_json(tmp_path):
    path = write(tmp_path, "d.csv", 'id,input,tags\na,hello,"[bad json"\n')
    with pytest.raises(
        DatasetError, match="d.csv, line 2, row 1, field 'tags': invalid JSON in cell"
    ):
        load_dataset(path, display="d.csv")


def test_bad_row_scorer_spec_is_a_usage_error_naming_the_row(project):
    (project.path / "qa.jsonl").write_text(
        '{"id": "a", "input": 1}\n{"id": "b", "input": 2, "scorers": ["exact_match>=2"]}\n'
    )
    result = project.run("--dataset=qa.jsonl", "--target=echo")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: datasetrun: qa.jsonl, line 2, row 2, field 'scorers': *threshold 2.0 is outside*"]
    )


def test_public_names_resolve():
    import pytest_datasetrun as dr

    for name in dr.__all__:
        assert getattr(dr, name) is not None, name
    assert dr.load_dataset is load_dataset
