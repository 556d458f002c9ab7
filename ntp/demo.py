"""`ntp demo` (what `make demo` runs): sample reports for all 63 provinces for a few months of 2024,
the real Airflow DAG for each month, then where to look."""

from __future__ import annotations

import shutil
import time

from generator import generate
from ntp.orchestrate import run_month
from ntp_core import warehouse
from ntp_core.periods import label, period_range
from ntp_core.settings import load


def run_demo(*, periods: str = "2024-01:2024-03", provinces: str = "all", seed: int = 2024) -> int:
    settings = load()
    months = period_range(periods)
    started = time.monotonic()
    samples = settings.data_dir / "samples"
    print(f"▶ generating sample reports for {len(months)} month(s) into {samples}", flush=True)
    result = generate(samples, months, provinces=provinces, scale="small", seed=seed, messy=1, plant_rate=0.02)
    # Deliver the reports (not the generator's ground truth) into the inbox, as the offices would.
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    for month in months:
        for path in sorted((samples / label(month)).iterdir()):
            target = settings.inbox_dir / path.name
            if not target.exists():
                shutil.copy2(path, target)
    print(
        f"  {len(result.files)} files delivered to {settings.inbox_dir}; {len(result.ground_truth)} expected "
        f"findings listed in {samples / 'ground_truth.csv'}",
        flush=True,
    )
    failed = []
    for month in months:
        if run_month(label(month)) != 0:
            failed.append(label(month))
    last = label(months[-1])
    print(f"\nDemo finished in {time.monotonic() - started:.0f} s." + (f" Failed months: {failed}" if failed else ""))
    print(f"  alert (open in a browser): {settings.reports_dir / last / 'alert.html'}")
    print(f"  findings:                  .venv/bin/ntp findings --period {last}")
    print(f"  detection score:           .venv/bin/ntp score --truth {samples / 'ground_truth.csv'} --period {last}")
    print(f"  warehouse (psql / BI):     {warehouse.connection_hint(settings)}")
    print("  dashboards (Superset):     make bi")
    print(
        "  example query:             select province_code, rule_id, delta_vnd from marts.fct_findings"
        f" where period = '{last}-01' order by abs(delta_vnd) desc nulls last limit 10;"
    )
    return 1 if failed else 0
