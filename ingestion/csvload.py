"""Bulk load of the Treasury extract and the plan-assignment CSV: COPY into a temporary text table,
then type, validate, de-duplicate and insert with set-based SQL in the caller's transaction.

No Python touches individual lines: the file's bytes go to COPY as delivered (PostgreSQL converts
Windows-1258), and every check is one SQL statement that names the first failing line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from ingestion import bulk
from ingestion.csvformat import CsvFormat, sniff_csv
from ingestion.errors import RejectedFile
from ingestion.file_period import KY_BAO_CAO, ky_bao_cao_period
from ingestion.partitions import month_partition
from ingestion.treasury_contract import AMOUNTS, MAX_AMOUNT, PLAN_COLUMNS, TREASURY_COLUMNS
from ntp_core.reference import components, provinces_34, provinces_63, provinces_for

COPY_CHUNK = 1 << 20


@dataclass
class CsvLoad:
    kind: str
    period: date | None
    province_code: str | None
    row_count: int
    notes: list[str] = field(default_factory=list)
    method: str = "staging"  # bulk: COPY straight into raw (ingestion.bulk); staging: text table first


def _province_code(value: str) -> str | None:
    """A `ma_tinh` as a province code (of either era: a rejected file's month may be unknown or not
    started), lost zeros restored; None when it names no province."""
    code = value.strip()
    if not code.isdigit():
        return None
    code = code.zfill(2)
    lists = [provinces_63(), provinces_34()]
    return code if any(code == p.province_code for provs in lists for p in provs) else None


def first_line_facts(fmt: CsvFormat, today: date | None = None) -> tuple[date | None, str | None]:
    """The report month (`ky_bao_cao`, when a started month) and province (`ma_tinh`) of the first data
    line, when the header names those columns: whose file a rejected header was."""
    row = dict(zip(fmt.header, fmt.first_row, strict=False))
    period = None
    period = ky_bao_cao_period(row.get("ky_bao_cao", "").strip())
    if period is not None and period > (today or date.today()).replace(day=1):
        period = None
    return period, _province_code(row.get("ma_tinh", ""))


def kind_of_header(header: list[str]) -> str | None:
    cols = set(header)
    if {"ky_bao_cao", "ma_kbnn"} & cols or len(cols & set(TREASURY_COLUMNS)) >= 8:
        return "treasury_extract"
    if "ke_hoach_giao" in cols or cols >= set(PLAN_COLUMNS) - {"ke_hoach_giao"} and "ky_bao_cao" not in cols:
        return "plan_assignment"
    return None


def _amount(col: sql.Composable) -> sql.Composable:
    """Integer VND from text; thousands separators accepted only in groups of three; else NULL."""
    return sql.SQL(
        "case when {c} ~ '^-?[0-9]{{1,18}}$' then {c}::bigint "
        "when {c} ~ '^-?[0-9]{{1,3}}([., \u00a0][0-9]{{3}}){{1,5}}$' "
        "then regexp_replace({c}, '[., \u00a0]', '', 'g')::bigint end"
    ).format(c=col)


def _copy(conn: psycopg.Connection, path: Path, fmt: CsvFormat, staging: str) -> int:
    cols = [f"c{i}" for i in range(len(fmt.header))]
    create = sql.SQL("create temp table {} (line bigint generated always as identity, {}) on commit drop").format(
        sql.Identifier(staging),
        sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in cols),
    )
    stmt = sql.SQL("copy {} ({}) from stdin (format csv, header true, delimiter {}, encoding {})").format(
        sql.Identifier(staging),
        sql.SQL(", ").join(map(sql.Identifier, cols)),
        sql.Literal(fmt.delimiter),
        sql.Literal(fmt.encoding),
    )
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(create)
            with cur.copy(stmt) as copy, open(path, "rb") as f:
                f.seek(fmt.start)
                left = fmt.end - fmt.start
                while left > 0:
                    chunk = f.read(min(COPY_CHUNK, left))
                    if not chunk:
                        break
                    left -= len(chunk)
                    copy.write(chunk)
            return cur.rowcount
    except psycopg.errors.DataError as err:
        raise _copy_error(err, fmt) from err


def _copy_error(err: psycopg.errors.DataError, fmt: CsvFormat) -> RejectedFile:
    context = err.diag.context or ""
    m = re.search(r"line (\d+)", context)
    line = int(m.group(1)) if m else None
    col = re.search(r"column (c\d+)", context)
    column = fmt.header[int(col.group(1)[1:])] if col else None
    primary = err.diag.message_primary or str(err)
    if isinstance(err, psycopg.errors.CharacterNotInRepertoire | psycopg.errors.UntranslatableCharacter):
        code, msg = "bad_encoding", f"invalid {fmt.encoding} text: {primary}"
    else:
        code, msg = "bad_csv_row", f"malformed CSV line ({primary}); delimiter '{fmt.delimiter}'"
    return RejectedFile(code, msg, row=line, column=column)


def load_csv(
    conn: psycopg.Connection,
    path: Path,
    file_id: int,
    *,
    today: date | None = None,
    fmt: CsvFormat | None = None,
) -> CsvLoad:
    """Load one Treasury or plan CSV into raw; raises RejectedFile for a bad file (caller rolls back)."""
    fmt = fmt or sniff_csv(path)
    kind = kind_of_header(fmt.header)
    if kind is None:
        raise RejectedFile(
            "bad_csv_header",
            f"the header names neither a Treasury extract nor a plan assignment: {', '.join(fmt.header)[:200]}",
            row=1,
        )
    wanted = TREASURY_COLUMNS if kind == "treasury_extract" else PLAN_COLUMNS
    missing = [c for c in wanted if c not in fmt.header]
    if missing:
        period, province = first_line_facts(fmt, today)
        raise RejectedFile(
            "bad_csv_header",
            f"header misses column(s) {', '.join(missing)} (delimiter '{fmt.delimiter}')",
            row=1,
            column=missing[0],
            period=period,
            province_code=province,
        )
    today = today or date.today()
    fast = _bulk(conn, path, fmt, kind, file_id, today)
    if fast is not None:
        return fast
    staging = f"stg_{file_id}"
    try:
        n = _copy(conn, path, fmt, staging)
    except RejectedFile as rej:
        if rej.code != "bad_encoding" or fmt.encoding != "UTF8":
            raise
        fmt.encoding = "WIN1258"  # non-UTF-8 bytes beyond the sniffed head: a legacy export
        n = _copy(conn, path, fmt, staging)
    if n == 0:
        raise RejectedFile("empty_file", "no data lines after the header", row=2)
    return _Loader(conn, fmt, kind, file_id, staging, n, today).run()


def _bulk(conn: psycopg.Connection, path: Path, fmt: CsvFormat, kind: str, file_id: int, today: date) -> CsvLoad | None:
    """The bulk path (ingestion.bulk) inside a savepoint; None when the staging path must run instead."""
    period = bulk.eligible(fmt, kind, today)
    if period is None:
        return None
    codes = frozenset(p.province_code for p in provinces_for(period))
    ctmt = frozenset(c.treasury_code for c in components())
    try:
        with conn.transaction():
            res = bulk.load(conn, path, fmt, file_id, period, codes, ctmt)
    except bulk.NeedsStaging:
        return None
    return CsvLoad(kind, res.period, res.province_code, res.row_count, res.notes, "bulk")


class _Loader:
    def __init__(self, conn, fmt: CsvFormat, kind: str, file_id: int, staging: str, n: int, today: date):
        self.conn, self.fmt, self.kind, self.file_id, self.n, self.today = conn, fmt, kind, file_id, n, today
        self.stg = sql.Identifier(staging)
        self.col = {name: sql.Identifier(f"c{i}") for i, name in reversed(list(enumerate(fmt.header)))}
        self.notes: list[str] = []

    def q(self, query: str, **kw) -> list[tuple]:
        comp = sql.SQL(query).format(stg=self.stg, **kw)
        return self.conn.execute(comp).fetchall()

    def t(self, name: str) -> sql.Composable:
        return sql.SQL("btrim({})").format(self.col[name])

    # -- checks -----------------------------------------------------------------------------
    def checks(self, checks: list[tuple]) -> None:
        """Run many `first_bad` checks in one scan; only a failing one is looked at again, in order."""
        if not checks:
            return
        cols = sql.SQL(", ").join(sql.SQL("min(line) filter (where {})").format(c[0]) for c in checks)
        firsts = self.conn.execute(sql.SQL("select {} from {}").format(cols, self.stg)).fetchone()
        for check, first in zip(checks, firsts, strict=True):
            if first is not None:
                self.first_bad(*check)

    def first_bad(
        self,
        condition: sql.Composable,
        name: str,
        code: str,
        message: str,
        period: date | None = None,
        province: str | None = None,
    ) -> None:
        rows = self.conn.execute(
            sql.SQL("select line, {c} from {stg} where {cond} order by line limit 1").format(
                c=self.col[name], stg=self.stg, cond=condition
            )
        ).fetchall()
        if rows:
            line, value = rows[0]
            raise RejectedFile(
                code,
                message.format(value=value),
                row=line + 1,
                column=name,
                period=period,
                province_code=province,
            )

    def drop_total_lines(self) -> None:
        """Well-formed `Tổng cộng` lines inside the data (not only at the end) are dropped too."""
        key = self.t("ma_tinh" if self.kind == "plan_assignment" else "ky_bao_cao")
        odd = self.conn.execute(
            sql.SQL("select exists (select 1 from {stg} where {k} !~ '^[0-9]+$')").format(stg=self.stg, k=key)
        ).fetchone()[0]
        if not odd:
            return
        rows = self.conn.execute(
            sql.SQL(
                "delete from {stg} where {k} !~ '^[0-9]+$' and "
                "lower(concat_ws(' ', {all})) ~ '(tổng cộng|tong cong|tổng số|tong so)' "
                "returning line"
            ).format(stg=self.stg, k=key, all=sql.SQL(", ").join(self.col.values()))
        ).fetchall()
        if rows:
            self.n -= len(rows)
            self.notes.append(f"{len(rows)} total line(s) dropped (lines {', '.join(str(r[0] + 1) for r in rows)})")

    def lone_province(self) -> str | None:
        """The file's province when every line names the same valid `ma_tinh` (else none)."""
        lo, hi = self.conn.execute(
            sql.SQL("select min({m}), max({m}) from {stg}").format(m=self.t("ma_tinh"), stg=self.stg)
        ).fetchone()
        return _province_code(lo) if lo is not None and lo == hi else None

    def period(self) -> date | None:
        """The report month; a rejected month names the file's province when its lines agree on one."""
        try:
            return self._period()
        except RejectedFile as err:
            if err.province_code is None and "ma_tinh" in self.col:
                err.province_code = self.lone_province()
            raise

    def _period(self) -> date | None:
        if self.kind == "plan_assignment":
            return None
        k = self.t("ky_bao_cao")
        self.first_bad(
            sql.SQL("{k} !~ {pattern} or {k} is null").format(k=k, pattern=sql.Literal(f"^{KY_BAO_CAO.pattern}$")),
            "ky_bao_cao",
            "unknown_period",
            "ky_bao_cao '{value}' is not a report month YYYYMM",
        )
        lo, hi = self.conn.execute(sql.SQL("select min({k}), max({k}) from {stg}").format(k=k, stg=self.stg)).fetchone()
        if lo != hi:
            self.first_bad(
                sql.SQL("{k} <> {lo}").format(k=k, lo=sql.Literal(lo)),
                "ky_bao_cao",
                "mixed_periods",
                f"the file mixes report months ({lo} and '{{value}}'); one file per month",
            )
        period = ky_bao_cao_period(lo)
        assert period is not None  # every line matched KY_BAO_CAO (checked above)
        self.period_value = period  # every line carries this month (checked above)
        if period > self.today.replace(day=1):
            raise RejectedFile(
                "future_period",
                f"ky_bao_cao {lo} is a month that has not started yet",
                row=2,
                column="ky_bao_cao",
                period=period,
            )
        return period

    def pad(self, name: str, width: int, valid: frozenset[str] | None = None) -> sql.Composable:
        """Restore lost leading zeros of a numeric code; counted and reported, never silent."""
        c = self.t(name)
        cond = sql.SQL("{c} ~ '^[0-9]+$' and length({c}) < {w}").format(c=c, w=sql.Literal(width))
        if valid is not None:
            cond = sql.SQL("{cond} and lpad({c}, {w}, '0') = any({v})").format(
                cond=cond, c=c, w=sql.Literal(width), v=sql.Literal(sorted(valid))
            )
        fixed = self.conn.execute(
            sql.SQL("select count(*) from {stg} where {cond}").format(stg=self.stg, cond=cond)
        ).fetchone()[0]
        if fixed:
            self.notes.append(f"{fixed} {name} value(s) with lost leading zeros padded to {width} digits")
            return sql.SQL("case when {cond} then lpad({c}, {w}, '0') else {c} end").format(
                cond=cond, c=c, w=sql.Literal(width)
            )
        return c

    def run(self) -> CsvLoad:
        self.drop_total_lines()
        if self.n == 0:
            raise RejectedFile("empty_file", "no data lines, only total lines")
        period = self.period()
        year_sql = self.t("nam_kh")
        if self.kind == "plan_assignment":
            self.first_bad(
                sql.SQL("{y} !~ '^20[0-9]{{2}}$' or {y} is null").format(y=year_sql),
                "nam_kh",
                "invalid_code",
                "nam_kh '{value}' is not a plan year",
            )
            years = self.q("select distinct {y} from {stg}", y=year_sql)
            if len(years) > 1:
                self.first_bad(
                    sql.SQL("{y} <> {v}").format(y=year_sql, v=sql.Literal(years[0][0])),
                    "nam_kh",
                    "mixed_periods",
                    "the plan file mixes plan years ('{value}')",
                )
            plan_year = int(years[0][0])
            ref_period: date | None = date(plan_year, 1, 1)
        else:
            ref_period = period
        assert ref_period is not None
        codes = frozenset(p.province_code for p in provinces_for(ref_period))
        if self.kind == "plan_assignment" and plan_year == 2025:
            codes |= frozenset(p.province_code for p in provinces_63())
        self.check_trailer()
        ma_tinh = self.pad("ma_tinh", 2, codes)
        self.ref_period = ref_period
        unknown_prov = sql.SQL("not coalesce({m} = any({v}), false)").format(m=ma_tinh, v=sql.Literal(sorted(codes)))
        known = self.conn.execute(
            sql.SQL("select count(distinct {m}) filter (where not ({u})) from {stg}").format(
                m=ma_tinh, u=unknown_prov, stg=self.stg
            )
        ).fetchone()[0]
        if known >= 2:  # a national file: lines of an unknown province are set aside, the rest loads
            self.set_aside(
                unknown_prov,
                "ma_tinh",
                "unknown_province",
                f"ma_tinh '%s' is not a province code in {ref_period:%m/%Y}",
                ma_tinh,
            )
        else:  # a province's own file: an unknown province rejects the file
            self.first_bad(
                unknown_prov,
                "ma_tinh",
                "unknown_province",
                f"ma_tinh '{{value}}' is not a province code in {ref_period:%m/%Y}",
                period=ref_period,
            )
        lo, hi = self.conn.execute(
            sql.SQL("select min({m}), max({m}) from {stg}").format(m=ma_tinh, stg=self.stg)
        ).fetchone()
        province = lo if lo == hi else None
        ctmt = sorted({c.treasury_code for c in components()})
        unknown_ctmt = sql.SQL("not coalesce({m} = any({v}), false)").format(m=self.t("ma_ctmt"), v=sql.Literal(ctmt))
        all_unknown = self.conn.execute(
            sql.SQL("select bool_and({u}) from {stg}").format(u=unknown_ctmt, stg=self.stg)
        ).fetchone()[0]
        if all_unknown:  # no line at all in the reference: not a coding slip but another code list
            self.first_bad(
                unknown_ctmt,
                "ma_ctmt",
                "unknown_component",
                "ma_ctmt '{value}' is not a programme/project code (no line of the file has a known code)",
                ref_period,
                province,
            )
        self.set_aside(
            unknown_ctmt,
            "ma_ctmt",
            "unknown_component",
            "ma_ctmt '%s' is not a programme/project code",
            ma_tinh,
        )
        deferred: list[tuple] = []
        nguon = sql.SQL("translate(upper({c}), 'Đđ', 'DD')").format(c=self.t("nguon_von"))
        deferred.append(
            (
                sql.SQL("not coalesce({n} in ('NSTW', 'NSDP'), false)").format(n=nguon),
                "nguon_von",
                "invalid_code",
                "nguon_von '{value}' is not NSTW or NSDP",
                ref_period,
                province,
            )
        )
        loai = sql.SQL("upper({c})").format(c=self.t("loai_von"))
        deferred.append(
            (
                sql.SQL("not coalesce({n} in ('DTPT', 'SN'), false)").format(n=loai),
                "loai_von",
                "invalid_code",
                "loai_von '{value}' is not DTPT or SN",
                ref_period,
                province,
            )
        )
        if self.kind == "treasury_extract":
            assert period is not None
            deferred.append(
                (
                    sql.SQL("not coalesce(case when {y} ~ '^20[0-9]{{2}}$' then {y}::int <= {py} end, false)").format(
                        y=year_sql, py=sql.Literal(period.year)
                    ),
                    "nam_kh",
                    "invalid_code",
                    f"nam_kh '{{value}}' is not a plan year up to {period.year}",
                    period,
                    province,
                )
            )
        for name in AMOUNTS[self.kind]:
            deferred.append(
                (
                    sql.SQL("{a} is null").format(a=_amount(self.t(name))),
                    name,
                    "unparseable_number",
                    f"{name} '{{value}}' is not an integer amount in VND",
                    ref_period,
                    province,
                )
            )
        for name in AMOUNTS[self.kind]:  # after every parse check, so a bad number is named as such
            amount = _amount(self.t(name))
            if name != "thanh_toan_trong_ky":
                deferred.append(
                    (
                        sql.SQL("{a} < 0").format(a=amount),
                        name,
                        "negative_amount",
                        f"{name} '{{value}}' is negative",
                        ref_period,
                        province,
                    )
                )
            deferred.append(
                (
                    sql.SQL("abs({a}) > {m}").format(a=amount, m=sql.Literal(MAX_AMOUNT)),
                    name,
                    "absurd_amount",
                    f"{name} '{{value}}' VND is beyond any programme line",
                    ref_period,
                    province,
                )
            )
        dupes = self.dedupe()
        try:  # fast path: plain casts; any bad value makes the statement fail and we look closer
            with self.conn.transaction():
                count = self.insert(ma_tinh, nguon, loai, dupes, fast=True, year=period.year if period else None)
        except (psycopg.errors.DataError, psycopg.errors.IntegrityError):
            self.checks(deferred)  # raises RejectedFile naming the first bad line and column
            count = self.insert(ma_tinh, nguon, loai, dupes)
        return CsvLoad(self.kind, ref_period, province, count, self.notes)

    def amount_checks(self) -> list[tuple]:
        return [
            (
                sql.SQL("{a} is null").format(a=_amount(self.t(name))),
                name,
                "unparseable_number",
                f"{name} '{{value}}' is not an integer amount in VND",
            )
            for name in AMOUNTS[self.kind]
        ]

    def set_aside(self, cond: sql.Composable, name: str, code: str, message: str, ma_tinh: sql.Composable) -> int:
        """Move the lines matching `cond` to audit.rejected_lines (NTP-C02: they match no reference)."""
        pairs = sql.SQL(", ").join(
            sql.SQL("{}, {}").format(sql.Literal(h), self.col[h]) for h in self.fmt.header if h in self.col
        )
        rows = self.conn.execute(
            sql.SQL(
                "insert into audit.rejected_lines (file_id, source_line, column_name, raw_value, error_code, "
                "message, period, province_code, line) select {fid}, line + 1, {name}, {raw}, {code}, "
                "format({msg}, line + 1, {raw}), {period}, {tinh}, jsonb_build_object({pairs}) "
                "from {stg} where {cond} returning source_line"
            ).format(
                fid=sql.Literal(self.file_id),
                name=sql.Literal(name),
                raw=self.t(name),
                code=sql.Literal(code),
                msg=sql.Literal("line %s: " + message),
                period=sql.Literal(self.ref_period),
                tinh=ma_tinh,
                pairs=pairs,
                stg=self.stg,
                cond=cond,
            )
        ).fetchall()
        if rows:
            self.conn.execute(sql.SQL("delete from {stg} where {cond}").format(stg=self.stg, cond=cond))
            self.n -= len(rows)
            self.notes.append(f"{len(rows)} line(s) with an unknown {name} set aside (audit.rejected_lines)")
        return len(rows)

    def dedupe(self) -> bool:
        cols = sql.SQL(", ").join(self.col[c] for c in self.fmt.header if c in self.col)
        distinct = self.conn.execute(
            sql.SQL("select count(*) from (select 1 from {stg} group by {cols}) d").format(stg=self.stg, cols=cols)
        ).fetchone()[0]
        if distinct == self.n:
            return False
        dropped = self.n - distinct
        self.conn.execute(
            sql.SQL(
                "delete from {stg} s using (select line from (select line, row_number() over "
                "(partition by {cols} order by line) rn from {stg}) x where rn > 1) d "
                "where s.line = d.line"
            ).format(stg=self.stg, cols=cols)
        )
        self.n = distinct
        self.notes.append(f"{dropped} exact duplicate line(s) dropped")
        return True

    def check_trailer(self) -> None:
        if self.fmt.trailing_blank:
            self.notes.append(f"{self.fmt.trailing_blank} trailing blank line(s) ignored")
        if not self.fmt.trailer:
            return
        names = AMOUNTS[self.kind]
        sums_sql = sql.SQL(", ").join(sql.SQL("sum({a})").format(a=_amount(self.t(n))) for n in names)
        sums = self.conn.execute(sql.SQL("select {s} from {stg}").format(stg=self.stg, s=sums_sql)).fetchone()
        cols = sql.SQL(", ").join(self.col[c] for c in self.fmt.header if c in self.col)
        distinct_sums: tuple | None = None
        for i, (_, fields) in enumerate(self.fmt.trailer):
            line = self.n + 2 + i
            if len(fields) != len(self.fmt.header):
                self.notes.append(
                    f"total line {line} dropped (its {len(fields)} fields do not align with the "
                    "header, amounts not checked)"
                )
                continue
            for name, expected in zip(names, sums, strict=True):
                raw = fields[self.fmt.header.index(name)].strip()
                if not raw:
                    continue
                digits = raw.replace(".", "").replace(",", "").replace(" ", "")
                if not digits.lstrip("-").isdigit():
                    raise RejectedFile(
                        "unparseable_number",
                        f"total line: {name} '{raw}' is not an amount",
                        row=line,
                        column=name,
                    )
                if int(digits) == int(expected or 0):
                    continue
                if distinct_sums is None:  # a re-run export's total may count each line once
                    distinct_sums = self.conn.execute(
                        sql.SQL("select {s} from (select distinct {cols} from {stg}) {stg}").format(
                            s=sums_sql, cols=cols, stg=self.stg
                        )
                    ).fetchone()
                if int(digits) != int(distinct_sums[names.index(name)] or 0):
                    self.checks(self.amount_checks())  # an unparseable amount is named as such first
                    raise RejectedFile(
                        "total_mismatch",
                        f"the total line says {name} = {int(digits):,} but the lines sum to {int(expected or 0):,}",
                        row=line,
                        column=name,
                    )
            self.notes.append(f"total line {line} dropped (amounts match the lines)")

    def insert(self, ma_tinh, nguon, loai, _dupes: bool, fast: bool = False, year: int | None = None) -> int:
        fid = sql.Literal(self.file_id)
        ctmt_codes = sql.Literal(sorted({c.treasury_code for c in components()}))
        if fast:

            def amount(name: str) -> sql.Composable:
                lo = -MAX_AMOUNT if name == "thanh_toan_trong_ky" else 0
                return sql.SQL("case when {c}::bigint between {lo} and {hi} then {c}::bigint end").format(
                    c=self.col[name], lo=sql.Literal(lo), hi=sql.Literal(MAX_AMOUNT)
                )

            ctmt: sql.Composable = sql.SQL("case when {c} = any({v}) then {c} end").format(
                c=self.t("ma_ctmt"), v=ctmt_codes
            )
            nguon = sql.SQL("case when {n} in ('NSTW', 'NSDP') then {n} end").format(n=nguon)
            loai = sql.SQL("case when {n} in ('DTPT', 'SN') then {n} end").format(n=loai)
            nam: sql.Composable = (
                sql.SQL("case when {y}::int <= {py} then {y}::int end").format(
                    y=self.col["nam_kh"], py=sql.Literal(year)
                )
                if year
                else sql.SQL("{}::int").format(self.col["nam_kh"])
            )
        else:

            def amount(name: str) -> sql.Composable:
                return _amount(self.t(name))

            ctmt = self.t("ma_ctmt")
            nam = sql.SQL("{}::int").format(self.t("nam_kh"))
        if self.kind == "treasury_extract":
            ten = self.col.get("ten_dvqhns")
            query = sql.SQL(
                "insert into {part} (file_id, source_line, period, ma_kbnn, ma_tinh, ma_ctmt, "
                "nguon_von, loai_von, nam_kh, ma_dvqhns, ten_dvqhns, du_toan_giao, thanh_toan_trong_ky, "
                "luy_ke_thanh_toan, ky_bao_cao) select {fid}, line + 1, {k}::date, {kbnn}, {tinh}, {ctmt}, "
                "{nguon}, {loai}, {nam}, {dv}, {ten}, {a1}, {a2}, {a3}, {ky} from {stg}"
            ).format(
                part=month_partition(self.conn, "raw.treasury_lines", self.period_value),
                fid=fid,
                k=sql.Literal(self.period_value),
                kbnn=self.pad("ma_kbnn", 4),
                tinh=ma_tinh,
                ctmt=ctmt,
                nguon=nguon,
                loai=loai,
                nam=nam,
                dv=self.pad("ma_dvqhns", 7),
                ten=sql.SQL("normalize(btrim({}), nfc)" if self.fmt.encoding == "WIN1258" else "btrim({})").format(ten),
                a1=amount("du_toan_giao"),
                a2=amount("thanh_toan_trong_ky"),
                a3=amount("luy_ke_thanh_toan"),
                ky=sql.Literal(self.period_value.year * 100 + self.period_value.month),
                stg=self.stg,
            )
        else:
            query = sql.SQL(
                "insert into raw.plan_assignments (file_id, source_line, nam_kh, ma_tinh, ma_ctmt, "
                "nguon_von, loai_von, ke_hoach_giao) select {fid}, line + 1, {nam}, {tinh}, {ctmt}, "
                "{nguon}, {loai}, {a} from {stg}"
            ).format(
                fid=fid,
                nam=nam,
                tinh=ma_tinh,
                ctmt=ctmt,
                nguon=nguon,
                loai=loai,
                a=amount("ke_hoach_giao"),
                stg=self.stg,
            )
        cur = self.conn.execute(query)
        return cur.rowcount
