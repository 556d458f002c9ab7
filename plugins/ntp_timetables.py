"""The report-month timetable of `ntp_monthly`, registered as an Airflow plugin.

One run per report month: the data interval is the calendar month [1st 00:00, 1st of next month 00:00) UTC,
and the run starts on day `schedule_day` of the following month at `hour`:00 UTC, when the provinces' and
the Treasury's reports for the month are due. The logical date of a run is the first day of its month,
so `airflow backfill create --from-date 2024-01-01 --to-date 2024-03-01` means January to March 2024.

Airflow only accepts a custom timetable that a plugin registers (DAG serialization checks it), so every
Airflow process — dag-processor, scheduler, api-server, `airflow dags test` — loads this folder as its
plugins folder (AIRFLOW__CORE__PLUGINS_FOLDER).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.exceptions import AirflowTimetableInvalid
from airflow.plugins_manager import AirflowPlugin
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction, Timetable
from pendulum import UTC, DateTime


def _month_start(at: DateTime) -> DateTime:
    return DateTime(at.year, at.month, 1, tzinfo=UTC)


def _next_month(start: DateTime) -> DateTime:
    return start.add(months=1)


def _utcnow() -> DateTime:
    """The current instant (one place, so tests can pin the clock)."""
    return DateTime.utcnow().replace(tzinfo=UTC)


class MonthlyReportTimetable(Timetable):
    """Data interval = one calendar month; run on day `schedule_day` of the next month at `hour` UTC."""

    periodic = True
    can_be_scheduled = True

    def __init__(self, schedule_day: int = 5, hour: int = 1) -> None:
        self.schedule_day = int(schedule_day)
        self.hour = int(hour)
        self.description = (
            f"monthly: the report month, run on day {self.schedule_day} of the next month at {self.hour:02d}:00 UTC"
        )

    # -- (de)serialization and validation ---------------------------------------------------
    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> MonthlyReportTimetable:
        return cls(schedule_day=data["schedule_day"], hour=data["hour"])

    def serialize(self) -> dict[str, Any]:
        return {"schedule_day": self.schedule_day, "hour": self.hour}

    def validate(self) -> None:
        if not 1 <= self.schedule_day <= 28:
            raise AirflowTimetableInvalid(f"schedule_day must be 1..28, got {self.schedule_day}")
        if not 0 <= self.hour <= 23:
            raise AirflowTimetableInvalid(f"hour must be 0..23, got {self.hour}")

    @property
    def summary(self) -> str:
        return f"monthly, day {self.schedule_day}"

    # -- the schedule -------------------------------------------------------------------------
    def run_after_for(self, start: DateTime) -> DateTime:
        """When the run of the month starting at `start` is due."""
        return _next_month(start) + timedelta(days=self.schedule_day - 1, hours=self.hour)

    def _info(self, start: DateTime) -> DagRunInfo:
        return DagRunInfo(run_after=self.run_after_for(start), data_interval=DataInterval(start, _next_month(start)))

    def infer_manual_data_interval(self, *, run_after: DateTime) -> DataInterval:
        """A manual run at the very start of a month is that month (`dags test ntp_monthly 2024-03-01`);
        a run at any other instant is the previous calendar month, the report month due at that time."""
        start = _month_start(run_after)
        if run_after != start:
            start = start.subtract(months=1)
        return DataInterval(start, _next_month(start))

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        if last_automated_data_interval is not None:
            start = _month_start(last_automated_data_interval.end)
        else:
            if restriction.earliest is None:  # no start_date: never scheduled
                return None
            start = _month_start(restriction.earliest)
            if start < restriction.earliest:
                start = _next_month(start)
        if not restriction.catchup:
            # Without catch-up, start at the latest month whose run is already due (or the next one).
            now = _utcnow()
            latest_due = _month_start(now).subtract(months=1)
            if self.run_after_for(latest_due) > now:
                latest_due = latest_due.subtract(months=1)
            start = max(start, latest_due)
        if restriction.latest is not None and start > restriction.latest:
            return None
        return self._info(start)


class NtpTimetablesPlugin(AirflowPlugin):
    name = "ntp_timetables"
    timetables = [MonthlyReportTimetable]
