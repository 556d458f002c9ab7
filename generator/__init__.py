"""Deterministic sample-report generator: provincial workbooks, Treasury extracts, plan file, ground truth.

from generator import generate
result = generate("out", "2024-01:2024-12", provinces="11,49", seed=1, messy=1, plant_rate=0.02)

The package's names load on first use, so `generator.cli` (its arguments, part of `ntp --help`) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.api import GenerationResult, generate

__all__ = ["GenerationResult", "generate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from generator import api  # noqa: PLC0415 - numpy and the generator's modules load on first use

        return getattr(api, name)
    raise AttributeError(f"module 'generator' has no attribute {name!r}")
