"""The real clock, set with faketime: a report for a month that has not started yet is refused until the
first second of that month on the machine's local clock (UTC here), a workbook and a Treasury extract alike.

The other tests give the loader `today`; these run the loader in a child process with the machine's clock
moved by faketime (Debian's package, which CI installs), so they check the path a month's run takes, where
nothing passes `today`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from generator import generate

ROOT = Path(__file__).resolve().parents[2]
FAKETIME = shutil.which("faketime")

pytestmark = pytest.mark.skipif(FAKETIME is None, reason="faketime is not installed (.ci/run installs it)")

# Ingest the files named on the command line, for April 2024, with no `today`: the loader reads the clock.
CHILD = """
import json, sys
from datetime import date
from pathlib import Path
from ingestion.load import ingest_file
from ntp_core.settings import load
settings = load()
results = [
    ingest_file(Path(p), warehouse_url=settings.warehouse_url, run_period=date(2024, 4, 1), settings=settings)
    for p in sys.argv[1:]
]
print(json.dumps({Path(r.path).name: [r.status, r.error_code] for r in results}))
"""


@pytest.fixture(scope="module")
def april(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Hà Nội's workbook and Treasury extract for April 2024."""
    out = tmp_path_factory.mktemp("clock")
    generate(out, [date(2024, 4, 1)], provinces=["01"], scale="small", seed=1, messy=0)
    return [out / "2024-04" / "BC_NTP_01_ha_noi_202404.xlsx", out / "2024-04" / "KBNN_01_202404.csv"]


def _ingest_at(instant: str, files: list[Path], warehouse_url: str, data: Path) -> dict[str, list]:
    env = {
        **os.environ,
        "TZ": "UTC",
        "WAREHOUSE_URL": warehouse_url,  # in the environment, never on a command line
        "NTP_DATA_DIR": str(data),
    }
    assert FAKETIME is not None
    done = subprocess.run(
        [FAKETIME, instant, sys.executable, "-c", CHILD, *map(str, files)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # Hand-set: the clock starts there and runs (the child reads it within seconds of starting): a
        # minute before midnight UTC between 31 March and 1 April 2024, and that midnight.
        ("2024-03-31 23:59:00", ["quarantined", "future_period"]),
        ("2024-04-01 00:00:00", ["loaded", None]),
    ],
)
def test_a_month_is_refused_as_future_until_it_starts(
    april: list[Path], clean_warehouse: str, tmp_path: Path, instant: str, expected: list
):
    got = _ingest_at(instant, april, clean_warehouse, tmp_path / "data")
    assert got == {f.name: expected for f in april}
