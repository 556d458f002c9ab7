"""Fixtures of the ingestion tests: a fresh warehouse and data folders per test."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ntp_core.settings import Settings

RUN = date(2024, 3, 1)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    return Settings(data_dir=data, inbox_dir=tmp_path / "inbox", warehouse_url=None)


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


@pytest.fixture
def ingest(clean_warehouse: str, settings: Settings):
    """`ingest(path, run_period=RUN)` -> IngestResult, against a clean warehouse."""
    from ingestion.load import ingest_file

    def run(path: Path, run_period: date = RUN):
        return ingest_file(Path(path), warehouse_url=clean_warehouse, run_period=run_period, settings=settings)

    return run


@pytest.fixture
def db(clean_warehouse: str):
    """`db(sql, params)` -> rows."""
    from ntp_core.warehouse import connect

    conn = connect(clean_warehouse, autocommit=True)

    def q(query: str, params: tuple | None = None) -> list[tuple]:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []

    yield q
    conn.close()
