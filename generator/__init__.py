"""Deterministic sample-report generator: provincial workbooks, Treasury extracts, plan file, ground truth.

from generator import generate
result = generate("out", "2024-01:2024-12", provinces="11,49", seed=1, messy=1, plant_rate=0.02)
"""

from generator.api import GenerationResult, generate

__all__ = ["GenerationResult", "generate"]
