"""Raw rows for the rule tests, written with SQL: a consistent province-month (workbook cells with parents,
TỔNG SỐ line, Tổng số column and rate; Treasury lines on the leaves) that a scenario then breaks in one
place. Figures are VND; the workbook's rounding is left to the scenarios."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from ntp_core import reference

MEASURES = ("plan_assigned", "allocated", "disbursed_cumulative")
M = 1_000_000  # one triệu


def _tree(capital_type: str) -> dict[str, str | None]:
    """component_key → parent_key for the components of one sheet."""
    return {c.component_key: c.parent_key for c in reference.components() if capital_type in c.capital_types}


def treasury_code(component_key: str) -> str:
    return next(c.treasury_code for c in reference.components() if c.component_key == component_key)


@dataclass
class Workbook:
    """A province's report for one month.

    `leaves[(cap, comp, block, fund)] = (plan, allocated, disbursed)`.
    """

    province_code: str
    period: date
    leaves: dict[tuple[str, str, str, str], tuple[int, int, int]] = field(default_factory=dict)
    # planted edits: (cap, comp, block, measure, fund) -> delta added to that cell only (and kept in its
    # ancestors so that only that line breaks), or an absolute Tổng số / rate value.
    parent_deltas: dict[tuple[str, str, str, str, str], int] = field(default_factory=dict)
    total_column: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    rates: dict[tuple[str, str], float] = field(default_factory=dict)
    with_total_column: bool = True

    def cells(self) -> list[tuple]:
        """(capital_type, component_key, plan_block, measure, fund_source, value) of every written cell."""
        values: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
        for (cap, comp, block, fund), trio in self.leaves.items():
            tree = _tree(cap)
            for measure, value in zip(MEASURES, trio, strict=True):
                node: str | None = comp
                while node is not None:
                    values[(cap, node, block, measure, fund)] += value
                    node = tree[node]
                values[(cap, "TOTAL", block, measure, fund)] += value
        for (cap, comp, block, measure, fund), delta in self.parent_deltas.items():
            tree = _tree(cap)
            node = comp
            while node is not None:
                values[(cap, node, block, measure, fund)] += delta
                node = tree[node]
            values[(cap, "TOTAL", block, measure, fund)] += delta
        out = [(cap, comp, block, measure, fund, v) for (cap, comp, block, measure, fund), v in values.items()]
        if self.with_total_column:
            sums: dict[tuple[str, str, str, str], int] = defaultdict(int)
            for cap, comp, block, measure, _fund, v in out:
                sums[(cap, comp, block, measure)] += v
            for key, v in sums.items():
                out.append((*key[:3], key[3], "TOTAL", self.total_column.get(key, v)))
        lines = {(cap, comp) for cap, comp, *_ in out}
        for cap, comp in lines:
            plan = sum(
                v
                for c, k, b, m, f, v in out
                if (c, k, b, m) == (cap, comp, "current", "plan_assigned") and f != "TOTAL"
            )
            disb = sum(
                v
                for c, k, b, m, f, v in out
                if (c, k, b, m) == (cap, comp, "current", "disbursed_cumulative") and f != "TOTAL"
            )
            if (cap, comp) in self.rates:
                out.append((cap, comp, "current", "disbursement_rate_pct", "TOTAL", self.rates[(cap, comp)]))
            elif plan:
                out.append((cap, comp, "current", "disbursement_rate_pct", "TOTAL", round(disb * 100 / plan, 2)))
        return out


def add_file(
    conn,
    kind: str,
    period: date | None,
    province_code: str | None,
    *,
    status: str = "loaded",
    name: str | None = None,
    error_code: str | None = None,
    error_message: str | None = None,
    error_sheet: str | None = None,
    error_row: int | None = None,
    error_column: str | None = None,
    run_period: date | None = None,
) -> int:
    ext = "xlsx" if "workbook" in kind else "csv"
    name = name or f"{kind}_{province_code or 'xx'}_{period:%Y%m}.{ext}"
    row = conn.execute(
        """insert into audit.files (sha256, original_name, archive_path, size_bytes, kind, period,
               province_code, received_at, status, error_code, error_message, error_sheet, error_row,
               error_column, run_period)
           values (md5(random()::text || clock_timestamp()::text), %s, %s, 1, %s, %s, %s, now(), %s, %s, %s,
                   %s, %s, %s, %s)
           returning file_id""",
        (
            name,
            "archive/" + name,
            kind,
            period,
            province_code,
            status,
            error_code,
            error_message,
            error_sheet,
            error_row,
            error_column,
            run_period or period,
        ),
    ).fetchone()
    return row[0]


def load_workbook(conn, wb: Workbook, *, name: str | None = None) -> int:
    fid = add_file(conn, "province_workbook", wb.period, wb.province_code, name=name)
    rows = []
    for n, (cap, comp, block, measure, fund, value) in enumerate(sorted(wb.cells(), key=str)):
        sheet = "Biểu 01a" if cap == "DTPT" else "Biểu 01b"
        rows.append(
            (
                fid,
                sheet,
                11 + n // 20,
                "D",
                wb.period,
                wb.province_code,
                cap,
                comp,
                comp,
                block,
                measure,
                fund,
                value,
            )
        )
    with conn.cursor() as cur:
        cur.executemany(
            """insert into raw.province_report_cells (file_id, sheet, source_row, source_column, period,
                   province_code, capital_type, component_key, component_label, plan_block, measure,
                   fund_source, value)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            rows,
        )
    return fid


def treasury_lines_of(wb: Workbook, *, carryover_year: int | None = None) -> list[tuple]:
    """Treasury lines matching a workbook's leaves.

    Each line: (ma_tinh, ma_ctmt, nguon_von, loai_von, nam_kh, alloc, paid).
    """
    year = wb.period.year
    out = []
    for (cap, comp, block, fund), (_plan, alloc, disb) in wb.leaves.items():
        if not (alloc or disb):
            continue
        nam_kh = year if block == "current" else (carryover_year or year - 1)
        out.append((wb.province_code, treasury_code(comp), fund, cap, nam_kh, alloc, disb))
    return out


def load_treasury(conn, period: date, province_code: str | None, lines: list[tuple], *, name: str | None = None) -> int:
    fid = add_file(conn, "treasury_extract", period, province_code, name=name)
    rows = [
        (
            fid,
            n + 2,
            period,
            "0001",
            ma_tinh,
            ma_ctmt,
            nguon,
            loai,
            nam_kh,
            "1000001",
            "Ban QLDA",
            alloc,
            0,
            paid,
        )
        for n, (ma_tinh, ma_ctmt, nguon, loai, nam_kh, alloc, paid) in enumerate(lines)
    ]
    with conn.cursor() as cur:
        cur.executemany(
            """insert into raw.treasury_lines (file_id, source_line, period, ma_kbnn, ma_tinh, ma_ctmt,
                   nguon_von, loai_von, nam_kh, ma_dvqhns, ten_dvqhns, du_toan_giao, thanh_toan_trong_ky,
                   luy_ke_thanh_toan)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            rows,
        )
    return fid


def set_aside(
    conn, file_id: int, period: date, province_code: str, source_line: int, column: str, raw_value: str
) -> None:
    """A line of a loaded file the ingestion set aside for an unknown code (audit.rejected_lines)."""
    code = "unknown_component" if column == "ma_ctmt" else "unknown_province"
    conn.execute(
        """insert into audit.rejected_lines (file_id, source_line, column_name, raw_value, error_code,
               message, period, province_code, line)
           values (%s, %s, %s, %s, %s, %s, %s, %s, jsonb_build_object(%s::text, %s::text))""",
        (
            file_id,
            source_line,
            column,
            raw_value,
            code,
            f"{column} '{raw_value}' is unknown",
            period,
            province_code,
            column,
            raw_value,
        ),
    )


def load_plan(conn, year: int, lines: list[tuple], *, run_period: date) -> int:
    """lines: (ma_tinh, component_key, nguon_von, loai_von, ke_hoach_giao)."""
    fid = add_file(conn, "plan_assignment", None, None, name=f"KHV_giao_{year}.csv", run_period=run_period)
    with conn.cursor() as cur:
        cur.executemany(
            """insert into raw.plan_assignments (file_id, source_line, nam_kh, ma_tinh, ma_ctmt, nguon_von,
                   loai_von, ke_hoach_giao) values (%s, %s, %s, %s, %s, %s, %s, %s)""",
            [(fid, n + 2, year, t, treasury_code(c), f, k, v) for n, (t, c, f, k, v) in enumerate(lines)],
        )
    return fid


def findings(
    conn,
    rule_id: str,
    period: str | None = None,
    province_code: str | None = None,
    *,
    include_resolved: bool = False,
) -> list[dict]:
    """The rule's rows of marts.fct_findings as dicts (VND as int where whole)."""
    sql = (
        "select rule_id, subject, to_char(period, 'YYYY-MM') as period, province_code, component_key, "
        "fund_source, capital_type, plan_block, measure, province_value_vnd, treasury_value_vnd, "
        "expected_vnd, delta_vnd, source_file, source_row, status, "
        "to_char(first_seen_period, 'YYYY-MM') as first_seen, detail, message_vi, message_en "
        "from marts.fct_findings where rule_id = %s"
    )
    params: list = [rule_id]
    if period:
        sql += " and period = %s::date"
        params.append(period + "-01")
    if province_code:
        sql += " and province_code = %s"
        params.append(province_code)
    if not include_resolved:
        sql += " and status <> 'resolved'"
    sql += " order by period, province_code, component_key, fund_source, plan_block, measure, subject"
    cur = conn.execute(sql, params)
    cols = [d.name for d in cur.description]
    out = []
    for r in cur.fetchall():
        item = dict(zip(cols, r, strict=True))
        for k in ("province_value_vnd", "treasury_value_vnd", "expected_vnd", "delta_vnd"):
            v = item[k]
            if v is not None and v == v.to_integral_value():
                item[k] = int(v)
        out.append(item)
    return out
