"""Planted discrepancies (filled in below)."""
