"""The README's framework recipes, run as written against each real framework."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

README = Path(os.environ.get("DATASETRUN_README", Path(__file__).parents[2] / "README.md"))
_RECIPE = re.compile(r"<!-- recipe: (?P<meta>[^>]*?) -->\n```python\n(?P<code>.*?)```", re.DOTALL)
QUESTION = "What is the capital of France?"


def recipes() -> list[pytest.param]:
    found = []
    for match in _RECIPE.finditer(README.read_text(encoding="utf-8")):
        module, _, rest = match["meta"].partition(" ")
        options = dict(re.findall(r"(\w+)=(\{.*\}|\S+)", rest))
        found.append(pytest.param(module, options, match["code"], id=module.split(".")[0]))
    return found


def test_every_framework_has_a_recipe():
    assert len(recipes()) >= 9


@pytest.mark.parametrize(("module", "options", "code"), recipes())
def test_recipe(fw, openai_server, module, options, code):
    pytest.importorskip(module)
    openai_server.state.answer = "Paris"
    os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    value = json.loads(options["input"]) if "input" in options else QUESTION
    rows = [{"id": "q", "input": value, "expected": "Paris"}]
    result, record = fw.run(code, options["target"], rows, "--scorer=contains>=1")
    result.assert_outcomes(passed=1)
    item = record.items[0]
    assert "Paris" in item.output and not item.output_is_repr
