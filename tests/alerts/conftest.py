"""Alert tests reuse the rule tests' raw-row builders and scenario."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rules"))

from conftest_rules import scenario  # noqa: E402,F401 - the shared fixture
