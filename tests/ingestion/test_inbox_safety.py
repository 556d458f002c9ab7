"""The inbox as an attacker sees it: a file swapped for a symbolic link between discovery and load, a swap
after the loader opened the file, hostile names, and a run asking for an inbox outside the configured root."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from ingest_samples import TREASURY_HEADER, treasury_rows, write_csv

from ingestion.inbox import InboxOutsideRoot, confined_inbox, files_for_period, pending_months

SECRET = b"ky_bao_cao,ma_kbnn\nSECRET-LINE-do-not-copy,1\n"


def _secret(tmp_path: Path) -> Path:
    """A file outside the inbox that a link points to: its bytes must never reach the data folder."""
    path = tmp_path / "outside" / "secret.csv"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def _leaked(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.rglob("*") if p.is_file() and b"SECRET-LINE" in p.read_bytes()]


def test_file_swapped_for_a_link_after_discovery_is_not_followed(
    ingest, inbox, tmp_path, settings, db, clean_warehouse
):
    report = write_csv(inbox / "KBNN_11_202403.csv", TREASURY_HEADER, treasury_rows())
    assert files_for_period(inbox, date(2024, 3, 1), clean_warehouse, today=date(2024, 4, 2)) == [report]
    secret = _secret(tmp_path)
    report.unlink()
    report.symlink_to(secret)
    res = ingest(report)
    assert (res.status, res.error_code) == ("quarantined", "not_a_regular_file")
    assert "SECRET" not in (res.error_message or "")
    rows = db("select original_name, status, error_code, error_message, size_bytes from audit.files")
    assert [r[:3] for r in rows] == [("KBNN_11_202403.csv", "quarantined", "not_a_regular_file")]
    assert "SECRET" not in rows[0][3] and rows[0][4] == 0
    assert _leaked(settings.data_dir) == []
    assert db("select count(*) from raw.treasury_lines") == [(0,)]
    # the same refusal again is one manifest row, not a second
    assert ingest(report).status == "duplicate"


def test_a_swap_after_the_loader_opened_the_file_changes_nothing(ingest, inbox, tmp_path, settings, db, monkeypatch):
    """The loader reads the delivered path exactly once; a link put there while it parses is never read."""
    import ingestion.load as load

    report = write_csv(inbox / "KBNN_11_202403.csv", TREASURY_HEADER, treasury_rows(n=6))
    secret = _secret(tmp_path)
    real_identify = load.identify

    def swap_then_identify(path, **kw):
        report.unlink()
        report.symlink_to(secret)
        return real_identify(path, **kw)

    monkeypatch.setattr(load, "identify", swap_then_identify)
    res = ingest(report)
    assert report.is_symlink()  # the swap did happen, mid-load
    assert (res.status, res.row_count, res.error_code) == ("loaded", 6, None)
    assert db("select count(*) from raw.treasury_lines") == [(6,)]
    assert _leaked(settings.data_dir) == []


def test_discovery_and_the_watcher_list_no_link(inbox, tmp_path, clean_warehouse):
    real = write_csv(inbox / "KBNN_11_202403.csv", TREASURY_HEADER, treasury_rows())
    (inbox / "link.csv").symlink_to(_secret(tmp_path))
    (inbox / "dirlink").symlink_to(tmp_path / "outside", target_is_directory=True)
    assert files_for_period(inbox, date(2024, 3, 1), clean_warehouse, today=date(2024, 4, 2)) == [real]
    months = pending_months(inbox, clean_warehouse, today=date(2024, 4, 2))
    assert list(months) == ["2024-03"] and len(months["2024-03"]) == 1


HOSTILE_NAMES = [
    ("KBNN 11 <img src=x onerror=alert(1)> 202403.csv", None),  # markup: loads, the name is only text
    ("KBNN_11_202403 ' or 1=1 --.csv", None),  # quotes: loads
    ("Báo cáo KBNN tỉnh Điện Biên " + "dài " * 40 + ".csv", None),  # long multi-byte name
    ("KBNN_11\r202403.csv", "unsafe_file_name"),
    ("KBNN_11\t202403.csv", "unsafe_file_name"),
    ("-rf KBNN_11_202403.csv", "unsafe_file_name"),
    (".. KBNN_11_202403.csv", "unsafe_file_name"),
    ("KBNN_11_%5c..%5c202403.csv", "unsafe_file_name"),
    ("KBNN_11_C:evil_202403.csv", "unsafe_file_name"),
]


@pytest.mark.parametrize("name, code", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_hostile_names_stay_inside_the_data_folder(name, code, ingest, inbox, tmp_path, settings, db):
    path = write_csv(inbox / name, TREASURY_HEADER, treasury_rows())
    before = {p for p in tmp_path.rglob("*") if not p.is_relative_to(settings.data_dir)}
    res = ingest(path)
    if code is None:
        assert (res.status, res.error_code) == ("loaded", None)
    else:
        assert (res.status, res.error_code) == ("quarantined", code)
        (report,) = settings.quarantine_dir.rglob("*.error.json")
        assert report.parent.parent == settings.quarantine_dir
        assert all(ch.isprintable() and ch not in "/\\" for ch in report.name)
    assert db("select original_name from audit.files") == [(name,)]
    after = {p for p in tmp_path.rglob("*") if not p.is_relative_to(settings.data_dir)}
    assert after == before  # nothing written outside NTP_DATA_DIR
    for p in settings.data_dir.rglob("*"):
        assert p.resolve().is_relative_to(settings.data_dir.resolve())


def test_run_conf_inbox_is_confined_to_the_configured_root(tmp_path):
    root = tmp_path / "inbox"
    (root / "2024-03").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)
    assert confined_inbox(None, root) == root.resolve()
    assert confined_inbox("", root) == root.resolve()
    assert confined_inbox(str(root), root) == root.resolve()
    assert confined_inbox(str(root / "2024-03"), root) == (root / "2024-03").resolve()
    assert confined_inbox("2024-03", root) == (root / "2024-03").resolve()
    for bad in (str(outside), "/", "/etc", str(root / ".." / "elsewhere"), "../elsewhere", str(root / "escape")):
        with pytest.raises(InboxOutsideRoot, match="outside the configured inbox root"):
            confined_inbox(bad, root)
    assert os.path.isdir(outside)


@pytest.mark.parametrize(
    "dag_file, task", [("ntp_monthly.py", "discover_files"), ("ntp_inbox_watch.py", "pending_months")]
)
def test_both_dags_read_the_inbox_through_the_confinement(dag_file: str, task: str):
    """The task that reads the run conf `inbox` passes it through confined_inbox before any listing."""
    import ast

    from ntp_core.settings import PROJECT_ROOT

    tree = ast.parse((PROJECT_ROOT / "dags" / dag_file).read_text(encoding="utf-8"))
    (fn,) = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == task]
    calls = [n.func.id for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    assert "confined_inbox" in calls
    listing = {"files_for_period", "pending_months"} & set(calls)
    assert listing and calls.index("confined_inbox") < min(calls.index(c) for c in listing)
    assert "rglob" not in ast.dump(fn)  # no listing of its own
