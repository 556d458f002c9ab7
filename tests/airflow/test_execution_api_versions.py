"""`ntp run`'s in-process Task Execution API builds the Task SDK's version of its routes and the few versions
Cadwyn needs with it, not all of them (ntp/airflow_command.py), and serves the Task SDK's requests from it.

Each test runs in a child process: the trimmed version list replaces Airflow's for the rest of a process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _child(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_versions_kept_are_the_sdks_down_to_the_one_restoring_a_moved_endpoint():
    got = _child(
        "import json\n"
        "from airflow.api_fastapi.execution_api import versions\n"
        "from airflow.sdk.api.datamodels._generated import API_VERSION\n"
        "from ntp.airflow_command import serve_the_task_sdk_version\n"
        "whole = [v.value for v in versions.bundle.versions]\n"
        "serve_the_task_sdk_version()\n"
        "print(json.dumps({'sdk': API_VERSION, 'whole': whole,\n"
        "                  'kept': [v.value for v in versions.bundle.versions]}))\n"
    )
    # Read off airflow/api_fastapi/execution_api/versions/ of the pinned Airflow 3.3: nine dated versions; the
    # Task SDK speaks the newest; 2026-04-06 brings back /dag-runs/{dag_id}/previous (MovePreviousRunEndpoint),
    # the only endpoint a newer version moved, so it is kept, with the version below it as the first one.
    assert got["sdk"] == "2026-06-30"
    assert len(got["whole"]) == 9
    assert got["kept"] == ["2026-06-30", "2026-04-06", "2025-11-05"]


def _statuses(trim: bool) -> dict:
    """What the in-process app answers to the Task SDK's version and to Airflow's oldest one."""
    return _child(
        "import json, httpx\n"
        "from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI\n"
        "from airflow.sdk.api.datamodels._generated import API_VERSION\n"
        "from ntp.airflow_command import serve_the_task_sdk_version\n"
        f"if {trim}:\n"
        "    serve_the_task_sdk_version()\n"
        "api = InProcessExecutionAPI()\n"
        "client = httpx.Client(transport=api.transport, base_url='http://in-process.invalid/')\n"
        "got = {v: client.get('/health/ping', headers={'Airflow-API-Version': v}).status_code\n"
        "       for v in (API_VERSION, '2025-04-28')}\n"
        "print(json.dumps({'sdk': got[API_VERSION], 'oldest': got['2025-04-28']}))\n"
    )


def test_the_trimmed_app_serves_the_sdks_version_and_no_longer_the_oldest():
    assert _statuses(trim=False) == {"sdk": 200, "oldest": 200}  # Airflow's app: every version
    assert _statuses(trim=True) == {"sdk": 200, "oldest": 404}  # built for the SDK's version only
