"""A run's discovery reads each inbox file's month once: later runs take it from the cache while the file keeps
its size and modification time, and read it again when either changes. No warehouse: every file here belongs
to the run's month or a later one, so none needs the "already loaded?" lookup."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from generator import generate
from ingestion import inbox as inbox_module
from ingestion.inbox import files_for_period

MARCH, APRIL = date(2024, 3, 1), date(2024, 4, 1)
TODAY = date(2024, 6, 5)
NOWHERE = "postgresql://nobody@nowhere.invalid/ntp"


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One province's March and April 2024 deliveries as the generator writes them."""
    out = tmp_path_factory.mktemp("generated")
    generate(out, "2024-03:2024-04", provinces="11", seed=3)
    return out


def _counting_sniff(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every file whose content discovery reads."""
    read: list[Path] = []
    real = inbox_module.sniff_period

    def sniff(path: Path):
        read.append(path)
        return real(path)

    monkeypatch.setattr(inbox_module, "sniff_period", sniff)
    return read


def test_each_file_is_read_once_until_it_changes(delivered: Path, tmp_path: Path, monkeypatch) -> None:
    inbox = tmp_path / "inbox"
    for month in ("2024-03", "2024-04"):
        shutil.copytree(delivered / month, inbox / month)
    march = sorted((inbox / "2024-03").iterdir())
    april = sorted((inbox / "2024-04").iterdir())
    # The generator's plan file is for the year (January): an earlier month, which only the warehouse can
    # say is loaded or not. Out of this test: it is about reading months, not the lookup.
    for path in [*march, *april]:
        if path.name.startswith("KHV_"):
            path.unlink()
    march = sorted((inbox / "2024-03").iterdir())
    april = sorted((inbox / "2024-04").iterdir())
    assert march and april
    cache = tmp_path / "data" / "inbox-periods.json"
    read = _counting_sniff(monkeypatch)

    assert files_for_period(inbox, MARCH, NOWHERE, today=TODAY, cache_path=cache) == march
    assert sorted(read) == sorted([*march, *april])  # the first run reads every file
    assert oct(cache.stat().st_mode & 0o777) == "0o600"

    read.clear()
    assert files_for_period(inbox, MARCH, NOWHERE, today=TODAY, cache_path=cache) == march
    assert read == []  # nothing changed: no file opened

    # A corrected March workbook replaces one file: only that one is read again; a new file is read too.
    changed = next(p for p in march if p.suffix == ".xlsx")
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    extra = inbox / "2024-03" / "copy.xlsx"
    shutil.copy(next(p for p in april if p.suffix == ".xlsx"), extra)  # April's content in March's folder
    read.clear()
    assert files_for_period(inbox, MARCH, NOWHERE, today=TODAY, cache_path=cache) == march
    assert sorted(read) == sorted([changed, extra])

    # The same file, now with March's content: picked for March, not left out on the earlier answer.
    read.clear()
    shutil.copy(changed, extra)
    assert files_for_period(inbox, MARCH, NOWHERE, today=TODAY, cache_path=cache) == sorted([*march, extra])
    assert read == [extra]

    # Files that left the inbox leave the cache.
    extra.unlink()
    files_for_period(inbox, MARCH, NOWHERE, today=TODAY, cache_path=cache)
    assert str(extra) not in json.loads(cache.read_text())["periods"]


def test_an_unreadable_cache_is_rebuilt(delivered: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(delivered / "2024-04", inbox / "2024-04")
    for path in inbox.rglob("KHV_*"):
        path.unlink()
    cache = tmp_path / "inbox-periods.json"
    cache.write_text("{not json")
    expected = sorted((inbox / "2024-04").iterdir())
    assert files_for_period(inbox, APRIL, NOWHERE, today=TODAY, cache_path=cache) == expected
    assert set(json.loads(cache.read_text())["periods"]) == {str(p) for p in expected}
