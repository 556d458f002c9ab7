"""`ntp run`'s `airflow` entry point (ntp/airflow_command.py) ends its process with `os._exit`: the status it
gives is the one Python would give for the same `SystemExit`."""

from __future__ import annotations

import pytest

from ntp.airflow_command import exit_code


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (3, 3), ("a message", 1)])
def test_exit_code_like_python(code, status, capsys):
    assert exit_code(SystemExit(code)) == status
    if isinstance(code, str):
        assert capsys.readouterr().err.strip() == code
