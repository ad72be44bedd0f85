"""The stash keys the plugin's objects share: one place, so no module imports another for a key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    pass

__all__ = ("context_key", "emitting_key", "outcome_key")

context_key = pytest.StashKey["RunContext"]()
outcome_key = pytest.StashKey["Outcome"]()
emitting_key = pytest.StashKey[bool]()
