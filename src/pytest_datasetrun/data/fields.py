"""The fields of a dataset row, shared by the row model and the file formats."""

from __future__ import annotations

__all__ = ("EXPECTED_ALIASES", "ROW_FIELDS")

ROW_FIELDS = ("id", "input", "expected", "metadata", "tags", "scorers")
# Other tools' names for ``expected``, accepted on input.
EXPECTED_ALIASES = ("expected", "expected_output", "ground_truth", "groundTruth")
