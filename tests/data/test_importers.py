"""Datasets users already have (issue 12): files written by the real tools, loaded as they are."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pytest_datasetrun.data.dataset import load_dataset
from pytest_datasetrun.data.settings import LoadSettings
from pytest_datasetrun.errors import DatasetError

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str, **settings: object):
    return load_dataset(FIXTURES / name, display=name, settings=LoadSettings(**settings))


@pytest.mark.parametrize(
    "name",
    [
        "GOL_samples_head3.jsonl",
        "Chinese_character_riddles_head3_CR-line-endings.jsonl",
        "handmade_samples.jsonl",
    ],
)
def test_openai_evals_samples(name):
    dataset = load(name)
    raw = [
        json.loads(line)
        for line in (FIXTURES / name).read_text("utf-8").replace("\r", "\n").splitlines()
        if line
    ]
    assert dataset.format == "openai-evals" and dataset.total == len(raw) >= 3
    for item, row in zip(dataset.items, raw, strict=False):
        assert (item.input, item.expected) == (row["input"], row["ideal"])
        assert item.metadata == row.get("metadata", {})


def test_deepeval_goldens_in_all_three_files_agree():
    loaded = [load(f"goldens_deepeval.{ext}") for ext in ("json", "jsonl", "csv")]
    assert {d.format for d in loaded} == {"deepeval"}
    first = loaded[0].items[0]
    assert (first.input, first.expected) == ("What is the capital of France?", "Paris")
    assert first.metadata == {
        "context": ["France is a country in Europe.", "Paris is its capital."],
        "retrieval_context": ["Paris is the capital and largest city of France."],
    }
    assert loaded[0].items[1].metadata == {"comments": "non-ASCII row", "lang": "fr"}
    dumps = [[i.model_dump(exclude={"line"}) for i in d.items] for d in loaded]
    assert dumps[0] == dumps[1] == dumps[2]


def test_langsmith_examples():
    one = load("example_model_dump_langsmith.json")
    item = one.items[0]
    assert one.format == "langsmith" and item.id == "11111111-2222-3333-4444-555555555555"
    assert (item.input, item.expected) == (
        {"question": "What is the capital of France?"},
        {"answer": "Paris"},
    )
    assert item.metadata["lang"] == "en" and item.metadata["dataset_split"] == ["base"]
    many = load("examples_list_examples_langsmith.jsonl")
    assert many.total == 3 and many.items[2].expected is None
    mapped = load(
        "examples_list_examples_langsmith.jsonl",
        fields=(("id", "id"), ("input", "inputs")),
    )
    assert mapped.items[2].input == {"question": "Unlabelled row"}
    assert mapped.items[2].metadata["outputs"] is None  # unmapped columns are kept


def test_langsmith_unlabelled_row_fails_a_mapping_that_needs_its_output():
    with pytest.raises(DatasetError, match="row 3, field 'outputs.answer'"):
        load(
            "examples_list_examples_langsmith.jsonl",
            fields=(("input", "inputs"), ("expected", "outputs.answer")),
        )


@pytest.mark.parametrize("name", ["tests.yaml", "tests.json"])
def test_promptfoo_tests_map_assertions(name):
    dataset = load(name)
    assert dataset.format == "promptfoo"
    first = dataset.items[0]
    assert first.input == {"question": "What is the capital of France?"}
    assert first.expected == "Answer: What is the capital of France?"
    assert [s["scorer"] for s in first.scorers] == ["exact_match", "contains", "contains", "regex"]
    assert first.scorers[2] == {
        "scorer": "contains",
        "params": {"substring": "capital", "ignore_case": True},
        "threshold": 1.0,
        "as": "contains_2",
    }
    assert dataset.items[1].scorers == [
        {"scorer": "semantic_similarity", "params": {}, "threshold": 0.8}
    ]
    (warning,) = dataset.warnings
    assert "2 promptfoo assertion(s)" in warning
    assert "row 1: javascript" in warning and "row 2: llm-rubric" in warning


def test_promptfoo_csv_tests():
    dataset = load("tests.csv")
    assert dataset.format == "promptfoo" and dataset.total == 4
    assert dataset.items[0].scorers[1]["params"] == {"substring": "CAPITAL", "ignore_case": True}
    assert dataset.items[2].expected == "Answer: Prix d'un café ?"
    assert dataset.items[2].scorers[1] == {
        "scorer": "excludes",
        "params": {"substrings": ["€"]},
        "threshold": 1.0,
    }
    assert dataset.items[3].scorers[0]["threshold"] == 0.7
    assert dataset.items[0].metadata == {"description": "capital question", "category": "geo"}


def test_promptfoo_config_from_init():
    dataset = load("promptfooconfig_from_init.yaml")
    assert dataset.description == "My eval" and dataset.total == 3
    assert [item.input for item in dataset.items] == [
        {"topic": "bananas"},
        {"topic": "avocado toast"},
        {"topic": "new york city"},
    ]
    assert "javascript" in dataset.warnings[0] and "llm-rubric" in dataset.warnings[0]


def test_promptfoo_fills_vars_into_assertion_values(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "- vars: {city: Paris}\n  assert:\n    - {type: contains, value: '{{ city }}'}\n"
        "    - {type: starts-with, value: 'The'}\n    - {type: is-json}\n"
    )
    item = load_dataset(path).items[0]
    assert item.scorers == [
        {"scorer": "contains", "params": {"substring": "Paris"}, "threshold": 1.0},
        {"scorer": "starts_with", "params": {"prefix": "The"}, "threshold": 1.0},
        {"scorer": "json_valid", "params": {}, "threshold": 1.0},
    ]


def test_a_named_shape_overrides_detection(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"input": "q", "retrieval_context": ["c"]}\n')
    assert load_dataset(path).format == "deepeval"
    with pytest.raises(DatasetError, match="field 'retrieval_context': unknown field"):
        load_dataset(path, settings=LoadSettings(format="native"))


def test_cp1252_semicolon_file_with_capitalised_headers():
    with pytest.raises(DatasetError, match="cp1252"):
        load("qa_cp1252_semicolon.csv", fields=(("input", "question"),))
    dataset = load(
        "qa_cp1252_semicolon.csv",
        encoding="cp1252",
        fields=(("input", "question"), ("expected", "answer")),
    )
    assert dataset.total == 5
    assert [i.expected for i in dataset.items][2:] == ["yes; quoted", "ok", "Œuvre – naïve"]
    assert dataset.items[4].input == "Multi\nline" and dataset.items[4].line == 6


@pytest.mark.parametrize(
    "name",
    ["squad_like.parquet", "squad_like.arrow", "squad_like_save_to_disk", "squad_like.jsonl"],
)
def test_hugging_face_files_with_a_mapping(name):
    pytest.importorskip("pyarrow")
    dataset = load(name, fields=(("input", "question"), ("expected", "answers.text")))
    assert [i.id for i in dataset.items] == ["q1", "q2", "q3"]
    assert dataset.items[1].expected == ["Shakespeare", "William Shakespeare"]
    assert dataset.items[2].input == "Prix d'un café ?"
    assert dataset.items[0].metadata == {"context": "The Eiffel Tower is in Paris."}
    assert len(dataset.sha256) == 64


def test_parquet_is_read_in_batches_never_whole(tmp_path, monkeypatch):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    from pytest_datasetrun.data import arrowfile

    rows = [{"question": f"q{i}", "answer": str(i)} for i in range(10_000)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "big.parquet", row_group_size=1000)

    def whole(*args, **kwargs):
        raise AssertionError("the whole table was read")

    monkeypatch.setattr(pq.ParquetFile, "read", whole)
    monkeypatch.setattr(pq, "read_table", whole)
    monkeypatch.setattr(arrowfile, "BATCH_ROWS", 512)
    dataset = load_dataset(
        tmp_path / "big.parquet",
        settings=LoadSettings(fields=(("input", "question"), ("expected", "answer"))),
    )
    assert dataset.total == 10_000 and dataset.items[-1].expected == "9999"


def test_dataset_dict_folder_names_its_splits(tmp_path):
    pytest.importorskip("pyarrow")
    folder = tmp_path / "dd"
    shutil.copytree(FIXTURES / "squad_like_save_to_disk", folder / "train")
    (folder / "dataset_dict.json").write_text('{"splits": ["train"]}')
    with pytest.raises(DatasetError, match="DatasetDict folder; pass one split's folder"):
        load_dataset(folder)


def test_mapping_from_the_dataset_header_wins(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(
        json.dumps(
            {
                "fields": "input=q.text,expected=a",
                "items": [{"q": {"text": "hi"}, "a": "x", "source": "web"}],
            }
        )
    )
    item = load_dataset(path, settings=LoadSettings(fields=(("input", "nope"),))).items[0]
    assert (item.input, item.expected, item.metadata) == ("hi", "x", {"source": "web"})


def test_mapping_paths_index_lists_and_keep_unused_columns(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"messages": [{"content": "hi"}, {"content": "yo"}], "id": 7, "meta": {"k": 1}}\n'
    )
    settings = LoadSettings(
        fields=(("input", "messages.0.content"), ("expected", "messages.-1.content"))
    )
    item = load_dataset(path, settings=settings).items[0]
    assert (item.id, item.input, item.expected) == ("7", "hi", "yo")
    assert item.metadata == {"meta": {"k": 1}}


# --- end to end through pytest -------------------------------------------------------------


def copy(project, name: str) -> None:
    source = FIXTURES / name
    if source.is_dir():
        shutil.copytree(source, project.path / name)
    else:
        shutil.copy(source, project.path / name)


def test_promptfoo_warning_is_shown_once_and_rows_run(project, mode):
    copy(project, "tests.yaml")
    result = project.run("--dataset=tests.yaml", "--target=echo", "-W", "default", *mode)
    # echo answers with the vars object, so the mapped scorers fail.
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = result.stdout.str()
    assert text.count("promptfoo assertion(s) not carried over") == 1, text
    record = project.last_run()
    assert [i.input for i in record.items][0] == {"question": "What is the capital of France?"}


def test_field_mapping_option_and_ini_key(project):
    copy(project, "squad_like.jsonl")
    args = ("--dataset=squad_like.jsonl", "--target=echo", "--scorer=contains>=1")
    rejected = project.run(*args)
    assert rejected.ret == pytest.ExitCode.USAGE_ERROR
    result = project.run(*args, "--dataset-fields=input=question,expected=answers.text")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # echo answers with the question
    assert project.last_run().items[1].expected == ["Shakespeare", "William Shakespeare"]
    project.pytester.makeini(
        "[pytest]\nconsole_output_style = classic\n"
        "datasetrun_dataset_fields = input=context,expected=answers.text\n"
    )
    result = project.run(*args)
    result.assert_outcomes(passed=3)
    assert project.last_run().items[0].input == "The Eiffel Tower is in Paris."


def test_save_to_disk_folder_runs_serially_and_under_xdist(project, mode):
    pytest.importorskip("pyarrow")
    copy(project, "squad_like_save_to_disk")
    result = project.run(
        "--dataset=squad_like_save_to_disk",
        "--dataset-fields=input=context,expected=answers.text",
        "--target=echo",
        "--scorer=contains>=1",
        *mode,
    )
    result.assert_outcomes(passed=3)
    record = project.last_run()
    assert sorted(i.item_id for i in record.items) == ["q1", "q2", "q3"]


def test_openai_evals_file_runs_with_the_list_ideal(project):
    copy(project, "handmade_samples.jsonl")
    result = project.run(
        "--dataset=handmade_samples.jsonl", "--target=echo", "--dataset-format=openai-evals"
    )
    result.assert_outcomes(passed=4)
    assert project.last_run().items[1].expected == ["red", "blue", "yellow"]


def test_load_settings_from_the_package_root(tmp_path):
    import pytest_datasetrun as dr

    path = tmp_path / "d.jsonl"
    path.write_text('{"question": "q", "answer": "a"}\n')
    settings = dr.LoadSettings(fields=(("input", "question"), ("expected", "answer")))
    record = dr.run_dataset(
        dr.load_dataset(path, settings=settings), lambda input: "a", ["exact_match>=1"]
    )
    assert [(i.input, i.expected, i.status) for i in record.items] == [("q", "a", "passed")]


@pytest.mark.parametrize(
    "header", ["input,expected,context", "input,name,comments", "input,expected,ideal"]
)
def test_plain_csv_columns_named_like_another_tool_stay_native(tmp_path, header):
    path = tmp_path / "d.csv"
    path.write_text(header + "\nq,a|b,c\n")
    dataset = load_dataset(path)
    assert dataset.format == "csv" and dataset.items[0].input == "q"
    extra = header.split(",")[2]
    assert dataset.items[0].metadata[extra] == "c"
