"""Raw tables partitioned by report month: a month's load or revision writes its own partition only, the
partitions are made by the pipeline role (no superuser), and an unpartitioned warehouse is converted."""

from __future__ import annotations

import threading
from datetime import date

import psycopg
import pytest

from tests.ingestion.ingest_samples import TREASURY_HEADER, Variant, treasury_rows, write_csv, write_workbook

RUN = date(2024, 4, 1)
MARCH_WB = "Tháng 3 năm 2024 (Số liệu đến hết ngày 31/3/2024)"
FEB_WB = "Tháng 2 năm 2024 (Số liệu đến hết ngày 29/2/2024)"


def _snapshot(db, relation: str) -> tuple[int, list[str], int]:
    """(relfilenode, the row versions' xmins, rows) of one partition: what a write to it would change."""
    node = db("select relfilenode from pg_class where oid = %s::regclass", (relation,))[0][0]
    xmins = [r[0] for r in db(f"select distinct xmin::text from {relation} order by 1")]
    rows = db(f"select count(*) from {relation}")[0][0]
    return node, xmins, rows


def _rows_by_partition(db, table: str) -> dict[str, list]:
    return {
        part: [str(p) for p in periods]
        for part, periods in db(
            f"select tableoid::regclass::text, array_agg(distinct period) from {table} group by 1 order by 1"
        )
    }


def test_a_revision_of_one_month_touches_only_its_partition(ingest, db, tmp_path):
    feb = write_csv(tmp_path / "tabmis_feb.csv", TREASURY_HEADER, treasury_rows("202402", n=7))
    # March through the staging path (a padded name is not taken as is by the bulk COPY), then its revision
    # through the bulk path: both must land in March's partition.
    march_rows = treasury_rows("202403", n=5)
    march_rows[0][8] = "  " + march_rows[0][8]
    march = write_csv(tmp_path / "tabmis_mar.csv", TREASURY_HEADER, march_rows)
    revised = treasury_rows("202403", n=6)
    revised[2][11] = str(999_000_000)
    march_v2 = write_csv(tmp_path / "tabmis_mar_v2.csv", TREASURY_HEADER, revised)
    assert [ingest(f, RUN).status for f in (feb, march)] == ["loaded", "loaded"]

    before = _snapshot(db, "raw.treasury_lines_p202402")
    assert before[2] == 7
    assert _snapshot(db, "raw.treasury_lines_p202403")[2] == 5
    assert ingest(march_v2, RUN).status == "loaded"

    assert _snapshot(db, "raw.treasury_lines_p202402") == before  # not rewritten, no row touched
    after = _snapshot(db, "raw.treasury_lines_p202403")
    assert after[2] == 5 + 6  # the superseded version stays in raw, next to the revision
    assert len(after[1]) == 2  # two loads wrote it
    assert _rows_by_partition(db, "raw.treasury_lines") == {
        "raw.treasury_lines_p202402": ["2024-02-01"],
        "raw.treasury_lines_p202403": ["2024-03-01"],
    }
    assert db("select count(*) from raw.treasury_lines_default") == [(0,)]

    # Workbooks: a correction of March (later footer date) leaves February's cells as they were.
    ingest(write_workbook(tmp_path / "feb.xlsx", Variant(period_line=FEB_WB)))
    ingest(write_workbook(tmp_path / "mar.xlsx", Variant(period_line=MARCH_WB)))
    cells_feb = _snapshot(db, "raw.province_report_cells_p202402")
    correction = Variant(
        period_line=MARCH_WB, footer_date="Điện Biên, ngày 12 tháng 4 năm 2024", cell_override={(2, 1): 1300}
    )
    assert ingest(write_workbook(tmp_path / "mar_v2.xlsx", correction)).status == "loaded"
    assert _snapshot(db, "raw.province_report_cells_p202402") == cells_feb
    assert db("select count(distinct file_id) from raw.province_report_cells_p202403") == [(2,)]
    assert _rows_by_partition(db, "raw.province_report_cells") == {
        "raw.province_report_cells_p202402": ["2024-02-01"],
        "raw.province_report_cells_p202403": ["2024-03-01"],
    }


def test_partitions_are_made_by_the_pipeline_role_without_privileges(ingest, db, tmp_path):
    ingest(write_csv(tmp_path / "tabmis_jan.csv", TREASURY_HEADER, treasury_rows("202401", n=3)), RUN)
    owner, superuser, createrole, createdb = db(
        "select r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb from pg_class c "
        "join pg_roles r on r.oid = c.relowner where c.oid = 'raw.treasury_lines_p202401'::regclass"
    )[0]
    assert (owner, superuser, createrole, createdb) == ("ntp", False, False, False)
    assert db("select current_user") == [("ntp",)]
    # the BI role sees nothing of raw, new partitions included
    assert db(
        "select has_schema_privilege('ntp_bi', 'raw', 'usage'), "
        "has_table_privilege('ntp_bi', 'raw.treasury_lines_p202401', 'select')"
    ) == [(False, False)]


def test_two_loaders_of_the_same_new_month_share_one_partition(clean_warehouse):
    from ntp_core.warehouse import connect

    first, second = connect(clean_warehouse), connect(clean_warehouse)
    month = date(2023, 7, 1)
    try:
        with first.cursor() as cur:
            cur.execute("drop table if exists raw.treasury_lines_p202307")
        first.commit()
        made = first.execute("select raw.ensure_month_partition('raw.treasury_lines', %s)::text", (month,))
        got: list[str] = []
        other = threading.Thread(
            target=lambda: got.append(
                second.execute(
                    "select raw.ensure_month_partition('raw.treasury_lines', %s)::text", (month,)
                ).fetchone()[0]  # type: ignore[index]
            )
        )
        other.start()
        other.join(1.0)
        assert other.is_alive()  # waits for the first loader's transaction
        first.commit()
        other.join(10)
        second.commit()
        assert got == [made.fetchone()[0]] == ["raw.treasury_lines_p202307"]  # type: ignore[index]
        assert second.execute(
            "select count(*) from pg_inherits where inhparent = 'raw.treasury_lines'::regclass "
            "and inhrelid = 'raw.treasury_lines_p202307'::regclass"
        ).fetchone() == (1,)
    finally:
        first.close()
        second.close()


@pytest.fixture
def old_database(warehouse_url: str):
    """A database of its own, owned by the pipeline role, for a warehouse of an older version."""
    from ntp_core import warehouse

    admin = warehouse.embedded().admin_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("drop database if exists ntp_before_partitions")
        conn.execute("create database ntp_before_partitions owner ntp")
    yield psycopg.conninfo.make_conninfo(warehouse_url, dbname="ntp_before_partitions")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("drop database ntp_before_partitions with (force)")


def test_an_unpartitioned_warehouse_is_converted_by_the_schema_step(old_database):
    from ntp_core import warehouse

    with psycopg.connect(old_database, autocommit=True) as conn:
        # the raw Treasury table as an older version created it, with three lines in two months and a view
        conn.execute(
            "create schema raw; create schema staging; create schema audit; "
            "create table raw.treasury_lines (file_id bigint not null, source_line integer not null, "
            "period date not null, ma_kbnn text not null, ma_tinh text not null, ma_ctmt text not null, "
            "nguon_von text not null, loai_von text not null, nam_kh integer not null, ma_dvqhns text not null, "
            "ten_dvqhns text, du_toan_giao bigint not null, thanh_toan_trong_ky bigint not null, "
            "luy_ke_thanh_toan bigint not null); "
            "insert into raw.treasury_lines values "
            "(1, 2, '2024-01-01', '1101', '11', '92010', 'NSTW', 'DTPT', 2024, '7000000', 'a', 10, 1, 2), "
            "(1, 3, '2024-01-01', '1101', '11', '92010', 'NSDP', 'DTPT', 2024, '7000001', 'b', 20, 3, 4), "
            "(2, 2, '2024-02-01', '1101', '11', '93010', 'NSTW', 'SN', 2023, '7000002', 'c', 30, 5, 6); "
            "create view staging.stg_treasury__lines as select * from raw.treasury_lines"
        )
    warehouse.bootstrap(old_database)
    with psycopg.connect(old_database) as conn:
        assert conn.execute("select relkind from pg_class where oid = 'raw.treasury_lines'::regclass").fetchone() == (
            "p",
        )
        got = conn.execute(
            "select tableoid::regclass::text, file_id, source_line, du_toan_giao, ky_bao_cao "
            "from raw.treasury_lines order by 2, 3"
        ).fetchall()
        assert got == [
            ("raw.treasury_lines_p202401", 1, 2, 10, None),
            ("raw.treasury_lines_p202401", 1, 3, 20, None),
            ("raw.treasury_lines_p202402", 2, 2, 30, None),
        ]
        assert conn.execute("select to_regclass('raw.treasury_lines_unpartitioned')").fetchone() == (None,)
        assert conn.execute(
            "select relkind from pg_class where oid = 'raw.province_report_cells'::regclass"
        ).fetchone() == ("p",)
    warehouse.bootstrap(old_database)  # and again: nothing left to convert, nothing changes


_ORPHAN_CELL = (
    "insert into {} (file_id, sheet, source_row, source_column, period, province_code, capital_type, "
    "component_key, component_label, plan_block, measure, fund_source, value) "
    "values (%s, 'Biểu 01a', 9, 'D', '2024-03-01', '11', 'DTPT', 'TOTAL', 'x', 'current', 'allocated', 'NSTW', 1)"
)


def _refused(conn: psycopg.Connection, statement: str, params: tuple = ()) -> bool:
    """Whether the statement is refused as a lineage (foreign key) violation; nothing it did stays."""
    try:
        with conn.transaction():
            conn.execute(statement, params)
    except psycopg.errors.ForeignKeyViolation:
        return True
    return False


def _assert_cell_lineage_kept(url: str, month_partition: str) -> None:
    """Every way a cell could name no manifest row is refused: a cell of an unknown file written into the
    parent, the month's partition or one made afterwards, a cell moved to an unknown file, the manifest row
    of loaded cells deleted or renumbered, audit.files truncated without the cells."""
    with psycopg.connect(url, autocommit=True) as conn:
        named = conn.execute("select max(file_id) from raw.province_report_cells").fetchone()[0]  # type: ignore[index]
        unknown = conn.execute("select coalesce(max(file_id), 0) + 1 from audit.files").fetchone()[0]  # type: ignore[index]
        conn.execute("select raw.ensure_month_partition('raw.province_report_cells', '2031-01-01')")
        new_partition = _ORPHAN_CELL.replace("'2024-03-01'", "'2031-01-01'").format("raw.province_report_cells_p203101")
        assert _refused(conn, _ORPHAN_CELL.format("raw.province_report_cells"), (unknown,))
        assert _refused(conn, _ORPHAN_CELL.format(month_partition), (unknown,))
        assert _refused(conn, new_partition, (unknown,))
        assert _refused(conn, "update raw.province_report_cells set file_id = %s where file_id = %s", (unknown, named))
        assert _refused(conn, "delete from audit.files where file_id = %s", (named,))
        assert _refused(conn, "update audit.files set file_id = %s where file_id = %s", (unknown, named))
        assert _refused(conn, "truncate audit.files cascade")
        # what names an existing manifest row is taken, and manifest rows no cell names may go
        assert not _refused(conn, _ORPHAN_CELL.format(month_partition), (named,))
        assert not _refused(conn, "update audit.files set status = status where file_id = %s", (named,))
        orphans = conn.execute(
            "select count(*) from raw.province_report_cells c "
            "where not exists (select from audit.files f where f.file_id = c.file_id)"
        ).fetchone()
        assert orphans == (0,)


def test_every_cell_names_a_manifest_row(ingest, clean_warehouse, tmp_path):
    assert ingest(write_workbook(tmp_path / "mar.xlsx", Variant(period_line=MARCH_WB))).status == "loaded"
    _assert_cell_lineage_kept(clean_warehouse, "raw.province_report_cells_p202403")


def test_a_warehouse_with_the_cells_foreign_key_is_upgraded(old_database):
    """A warehouse of the version that checked the cells' lineage with a per-row foreign key and indexed
    their file_id with a B-tree: the schema step drops both, puts the statement-level checks on the parent
    and every existing partition, and indexes file_id with BRIN there."""
    from ntp_core import warehouse

    warehouse.bootstrap(old_database)
    with psycopg.connect(old_database, autocommit=True) as conn:  # back to that version's shape, with a month
        conn.execute("select raw.ensure_month_partition('raw.province_report_cells', '2024-03-01')")
        for rel, name in conn.execute(
            "select tgrelid::regclass::text, tgname from pg_trigger where tgname like 'cell_lineage%'"
        ).fetchall():
            conn.execute(f"drop trigger {name} on {rel}")
        conn.execute("alter table raw.province_report_cells add foreign key (file_id) references audit.files (file_id)")
        conn.execute("drop index raw.province_report_cells_file_brin")
        conn.execute("create index province_report_cells_file_idx on raw.province_report_cells (file_id)")
        file_id = conn.execute(
            "insert into audit.files (sha256, original_name, archive_path, size_bytes, kind, received_at, status) "
            "values ('ab', 'a.xlsx', 'a', 1, 'province_workbook', now(), 'loaded') returning file_id"
        ).fetchone()[0]  # type: ignore[index]
        conn.execute(_ORPHAN_CELL.format("raw.province_report_cells"), (file_id,))
    warehouse.bootstrap(old_database)
    warehouse.bootstrap(old_database)  # and again: nothing changes
    with psycopg.connect(old_database, autocommit=True) as conn:
        assert conn.execute(
            "select count(*) from pg_constraint where contype = 'f' and conrelid in "
            "(select 'raw.province_report_cells'::regclass union all select inhrelid from pg_inherits "
            "where inhparent = 'raw.province_report_cells'::regclass)"
        ).fetchone() == (0,)
        assert conn.execute("select file_id from raw.province_report_cells").fetchall() == [(file_id,)]
        indexes = conn.execute(
            "select c.relname, a.amname from pg_index i join pg_class c on c.oid = i.indexrelid "
            "join pg_am a on a.oid = c.relam where i.indrelid in ('raw.province_report_cells'::regclass, "
            "'raw.province_report_cells_p202403'::regclass) order by 1"
        ).fetchall()
        assert [am for _, am in indexes] == ["brin", "brin"], indexes
    _assert_cell_lineage_kept(old_database, "raw.province_report_cells_p202403")
