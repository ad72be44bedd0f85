"""pytest-datasetrun: evaluate targets against datasets inside pytest."""

from __future__ import annotations
