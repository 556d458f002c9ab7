-- The raw layer and the audit manifest: what ingestion writes, what dbt reads as sources.
-- Idempotent: run before every load. dbt owns every other schema.
create schema if not exists raw;
create schema if not exists audit;
create schema if not exists staging;
create schema if not exists marts;

-- One row per delivered file (by content): the manifest of the immutable archive.
create table if not exists audit.files (
    file_id          bigserial primary key,
    sha256           text not null,          -- content (unique but for path-like names: see below)
    original_name    text not null,          -- name as delivered (never trusted for meaning)
    archive_path     text not null,          -- path under $NTP_DATA_DIR/archive
    size_bytes       bigint not null,
    kind             text not null,          -- province_workbook | treasury_extract | plan_assignment | finding_response | unknown
    period           date,                   -- report month (first day), from the content
    province_code    text,                   -- GSO code from the content; null for a national file
    report_date      date,                   -- footer date of a workbook
    replaces_note    text,                   -- "(Thay thế báo cáo ngày …)" when present
    received_at      timestamptz not null,   -- the file's modification time in the inbox
    ingested_at      timestamptz not null default now(),
    status           text not null,          -- loaded | superseded | quarantined
    row_count        integer not null default 0,
    error_code       text,
    error_message    text,
    error_sheet      text,
    error_row        integer,
    error_column     text,
    unit             text,                   -- unit line of a workbook (trieu_dong | dong | ty_dong)
    run_period       date,                   -- the report month of the pipeline run that ingested it
    version          integer not null default 1, -- 1, 2, … per (kind, period, province_code) in supersede order
    constraint files_status_ck check (status in ('loaded', 'superseded', 'quarantined'))
);
create index if not exists files_period_idx on audit.files (period, kind, province_code);
-- One row per content, except that a file quarantined for a path-like NAME does not claim its content:
-- the same bytes under a proper name are still the report (and load), the same name again is a duplicate.
do $$
begin
    if exists (select 1 from pg_constraint where conname = 'files_sha256_key'
               and conrelid = 'audit.files'::regclass) then
        alter table audit.files drop constraint files_sha256_key;
    end if;
end $$;
create unique index if not exists files_sha256_uq on audit.files (sha256)
    where error_code is distinct from 'unsafe_file_name';
create unique index if not exists files_sha256_unsafe_name_uq on audit.files (sha256, original_name)
    where error_code = 'unsafe_file_name';

-- Raw tables keyed by report month are partitioned by it (`period`, one partition a month named
-- <table>_pYYYYMM): a load, a revision or a reload of a month writes one partition, and a monthly dbt build
-- reads only the months it rebuilds (literal period bounds, so the planner prunes the others). The loader
-- creates a month's partition in a short transaction of its own before the load (raw.ensure_month_partition,
-- owned by the pipeline role); a default partition catches a month written by anything else, and its rows
-- move to their own partition when that month's is created.
create or replace function raw.ensure_month_partition(parent regclass, month date) returns regclass
language plpgsql as $fn$
declare
    lo date := date_trunc('month', month)::date;
    hi date := (date_trunc('month', month) + interval '1 month')::date;
    nsp text;
    rel text;
    part text;
    dflt regclass;
begin
    select n.nspname, c.relname into strict nsp, rel
    from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = parent;
    part := format('%I.%I', nsp, format('%s_p%s', rel, to_char(lo, 'YYYYMM')));
    if to_regclass(part) is not null then
        return part::regclass;
    end if;
    -- Two loaders of a new month: the second waits here (ATTACH takes this lock anyway) until the first
    -- one's transaction ends, then finds its partition (read from the catalogue, not a cache).
    execute format('lock table %s in share update exclusive mode', parent);
    if exists (select from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = nsp and c.relname = format('%s_p%s', rel, to_char(lo, 'YYYYMM'))) then
        return part::regclass;
    end if;
    select i.inhrelid::regclass into dflt
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = parent and pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT';
    execute format('create table %s (like %s including defaults including constraints)', part, parent);
    if dflt is not null then
        execute format('with moved as (delete from %s where period >= %L and period < %L returning *) '
                       'insert into %s select * from moved', dflt, lo, hi, part);
    end if;
    -- ATTACH (not CREATE … PARTITION OF) locks the parent only against DDL, not against readers.
    execute format('alter table %s attach partition %s for values from (%L) to (%L)', parent, part, lo, hi);
    -- after ATTACH, which refuses a table with transition-table triggers (the rows moved above were checked)
    if parent = 'raw.province_report_cells'::regclass then
        perform raw.guard_cell_lineage(part::regclass);
    end if;
    return part::regclass;
end
$fn$;

-- A warehouse from before partitioning: its unpartitioned tables are set aside here, their rows move to the
-- partitioned tables below (one partition per month found) and they are dropped, all in this script's one
-- transaction. dbt's staging views over them are dropped with them and rebuilt by the next `dbt build`.
do $$
declare
    t text;
begin
    foreach t in array array['province_report_cells', 'treasury_lines'] loop
        if exists (select from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname = 'raw' and c.relname = t and c.relkind = 'r') then
            if t = 'treasury_lines' and not exists (select from information_schema.columns
                    where table_schema = 'raw' and table_name = t and column_name = 'ky_bao_cao') then
                alter table raw.treasury_lines add column ky_bao_cao integer;
            end if;
            execute format('alter table raw.%I rename to %I', t, t || '_unpartitioned');
            execute format('alter table raw.%I drop constraint if exists %I', t || '_unpartitioned', t || '_file_id_fkey');
            execute format('drop index if exists raw.%I, raw.%I, raw.%I', t || '_file_idx', t || '_file_brin',
                           t || '_period_brin');
        end if;
    end loop;
end $$;

-- Lineage of the workbook cells: every row of raw.province_report_cells names an audit.files row. Checked
-- once per statement on the statement's rows (a transition table), not per row as a foreign key would: the
-- per-row check cost half of a workbook's COPY. The check takes the FOR KEY SHARE lock a foreign key takes
-- on the manifest rows, and audit.files refuses to lose a row that cells name (delete, key update,
-- truncate without the cells). A statement-level trigger fires for the table the statement names, so
-- the parent and every partition carry it (`raw.guard_cell_lineage`, called for each new partition).
create or replace function raw.check_cell_lineage() returns trigger
language plpgsql as $fn$
declare
    missing bigint;
begin
    with named as (select distinct file_id from new_cells),
         present as (select f.file_id from audit.files f
                     where f.file_id in (select file_id from named) for key share of f)
    select n.file_id into missing from named n where n.file_id not in (select file_id from present) limit 1;
    if found then
        raise foreign_key_violation using
            message = format('insert or update on table "%s" violates its lineage to audit.files', tg_table_name),
            detail = format('Key (file_id)=(%s) is not present in table "files".', missing);
    end if;
    return null;
end
$fn$;

create or replace function raw.guard_cell_lineage(rel regclass) returns void
language plpgsql as $fn$
begin
    if not exists (select from pg_trigger where tgrelid = rel and tgname = 'cell_lineage_insert') then
        execute format('create trigger cell_lineage_insert after insert on %s referencing new table as new_cells '
                       'for each statement execute function raw.check_cell_lineage()', rel);
    end if;
    if not exists (select from pg_trigger where tgrelid = rel and tgname = 'cell_lineage_update') then
        execute format('create trigger cell_lineage_update after update on %s referencing new table as new_cells '
                       'for each statement execute function raw.check_cell_lineage()', rel);
    end if;
end
$fn$;

-- Provincial workbook cells, one row per figure, in VND, traceable to file/sheet/row/column.
create table if not exists raw.province_report_cells (
    file_id          bigint not null,        -- audit.files row of the workbook (lineage: see above)
    sheet            text not null,
    source_row       integer not null,       -- 1-based worksheet row
    source_column    text not null,          -- worksheet column letter
    period           date not null,
    province_code    text not null,
    capital_type     text not null,          -- DTPT (Biểu 01a) | SN (Biểu 01b)
    stt              text,
    component_key    text not null,          -- TOTAL for the TỔNG SỐ line
    component_label  text not null,          -- the Nội dung cell as written
    plan_block       text not null,          -- current | carryover
    measure          text not null,          -- plan_assigned | allocated | disbursed_cumulative | disbursement_rate_pct
    fund_source      text not null,          -- NSTW | NSDP | TOTAL
    value            numeric not null,       -- VND for amounts, percent for the rate
    value_as_reported text                   -- the cell text/number as read, before unit conversion
) partition by range (period);
create table if not exists raw.province_report_cells_default partition of raw.province_report_cells default;
-- BRIN, as for the Treasury lines: a workbook's cells are appended by one COPY, so a block range holds a
-- handful of files; a B-tree on file_id cost a sixth of a workbook's COPY to maintain. A warehouse from
-- before has the B-tree: dropped here (with its index on every partition).
drop index if exists raw.province_report_cells_file_idx;
create index if not exists province_report_cells_file_brin on raw.province_report_cells using brin (file_id);

-- The manifest side of the cells' lineage: a delete or key update of audit.files rows that cells still
-- name, or a truncate of audit.files that leaves cells behind, is refused.
create or replace function audit.keep_cell_lineage() returns trigger
language plpgsql as $fn$
declare
    gone bigint;
begin
    if tg_op = 'TRUNCATE' then
        if exists (select from raw.province_report_cells) then
            raise foreign_key_violation using
                message = 'cannot truncate audit.files: raw.province_report_cells names its rows',
                hint = 'Truncate raw.province_report_cells in the same statement.';
        end if;
        return null;
    end if;
    select o.file_id into gone from old_files o
    where not exists (select from audit.files f where f.file_id = o.file_id)
      and exists (select from raw.province_report_cells c where c.file_id = o.file_id)
    limit 1;
    if found then
        raise foreign_key_violation using
            message = 'update or delete on table "files" violates the lineage of raw.province_report_cells',
            detail = format('Key (file_id)=(%s) is still named by raw.province_report_cells.', gone);
    end if;
    return null;
end
$fn$;

-- A warehouse from before: the cells' per-row foreign key is dropped (on the parent, which drops it from
-- every partition) and the parent and each partition get the lineage triggers; once done, nothing changes.
do $$
declare
    fk name;
    rel regclass;
begin
    for fk in select conname from pg_constraint where conrelid = 'raw.province_report_cells'::regclass
              and contype = 'f' and confrelid = 'audit.files'::regclass and conparentid = 0 loop
        execute format('alter table raw.province_report_cells drop constraint %I', fk);
    end loop;
    for rel in select 'raw.province_report_cells'::regclass
               union all
               select inhrelid::regclass from pg_inherits where inhparent = 'raw.province_report_cells'::regclass loop
        perform raw.guard_cell_lineage(rel);
    end loop;
    if not exists (select from pg_trigger where tgrelid = 'audit.files'::regclass and tgname = 'cell_lineage_delete') then
        create trigger cell_lineage_delete after delete on audit.files referencing old table as old_files
            for each statement execute function audit.keep_cell_lineage();
    end if;
    if not exists (select from pg_trigger where tgrelid = 'audit.files'::regclass and tgname = 'cell_lineage_update') then
        create trigger cell_lineage_update after update on audit.files referencing old table as old_files
            for each statement execute function audit.keep_cell_lineage();
    end if;
    if not exists (select from pg_trigger where tgrelid = 'audit.files'::regclass
                   and tgname = 'cell_lineage_truncate') then
        create trigger cell_lineage_truncate after truncate on audit.files
            for each statement execute function audit.keep_cell_lineage();
    end if;
end $$;

-- Treasury (TABMIS) extract lines, typed, in VND. The bulk path COPYs an extract straight into its month's
-- partition: file_id and period come from per-transaction settings and source_line from a sequence the
-- loader resets to 2 (header = 1) under an advisory lock, so no expression runs per line in Python. No
-- foreign key to audit.files (a per-row RI check costs more than the COPY itself): the loader writes the
-- lines and their manifest row in one transaction, and the ingestion tests check that every file_id exists.
create sequence if not exists raw.treasury_lines_source_line cache 10000;
create table if not exists raw.treasury_lines (
    file_id              bigint not null default current_setting('ntp.load_file_id')::bigint,
    source_line          integer not null default nextval('raw.treasury_lines_source_line'),
    period               date not null default current_setting('ntp.load_period')::date,
    ma_kbnn              text not null,
    ma_tinh              text not null,
    ma_ctmt              text not null,
    nguon_von            text not null,
    loai_von             text not null,
    nam_kh               integer not null,
    ma_dvqhns            text not null,
    ten_dvqhns           text,
    du_toan_giao         bigint not null,
    thanh_toan_trong_ky  bigint not null,
    luy_ke_thanh_toan    bigint not null,
    ky_bao_cao           integer             -- the report month as delivered (YYYYMM); period is its first day
) partition by range (period);
create table if not exists raw.treasury_lines_default partition of raw.treasury_lines default;
-- BRIN: lines are appended file by file, so a block range holds one or two files; a B-tree on file_id
-- costs more than half the COPY to maintain.
create index if not exists treasury_lines_file_brin on raw.treasury_lines using brin (file_id);

do $$
declare
    t text;
    cols text;
    m date;
begin
    foreach t in array array['province_report_cells', 'treasury_lines'] loop
        if to_regclass(format('raw.%I', t || '_unpartitioned')) is not null then
            for m in execute format('select distinct date_trunc(''month'', period)::date from raw.%I',
                                    t || '_unpartitioned') loop
                perform raw.ensure_month_partition(format('raw.%I', t)::regclass, m);
            end loop;
            select string_agg(quote_ident(column_name), ', ' order by ordinal_position) into cols
            from information_schema.columns where table_schema = 'raw' and table_name = t;
            execute format('insert into raw.%I (%s) select %s from raw.%I', t, cols, cols, t || '_unpartitioned');
            execute format('drop table raw.%I cascade', t || '_unpartitioned');
            raise notice 'raw.% is now partitioned by report month', t;
        end if;
    end loop;
end $$;

-- Annual plan assignment (Quyết định giao kế hoạch vốn), in VND.
create table if not exists raw.plan_assignments (
    file_id        bigint not null references audit.files (file_id),
    source_line    integer not null,
    nam_kh         integer not null,
    ma_tinh        text not null,
    ma_ctmt        text not null,
    nguon_von      text not null,
    loai_von       text not null,
    ke_hoach_giao  bigint not null
);
create index if not exists plan_assignments_file_idx on raw.plan_assignments (file_id);

-- Great Expectations results per loaded file (one row per expectation), written by expectations.validate.
create table if not exists audit.validation_results (
    file_id       bigint not null references audit.files (file_id),
    suite         text not null,
    expectation   text not null,          -- expectation type and its column, e.g. expect_column_values_to_be_in_set(ma_tinh)
    success       boolean not null,
    severity      text not null default 'critical',
    observed      text,                   -- observed value / unexpected count, as text
    details       jsonb,
    validated_at  timestamptz not null default now()
);
create index if not exists validation_results_file_idx on audit.validation_results (file_id);

-- Lines of a loaded extract or plan file that were set aside instead of loaded: a code that matches
-- nothing in the reference data (NTP-C02), e.g. an unknown ma_ctmt, or an unknown ma_tinh in a national
-- file. Written in the same transaction as the file's lines; `line` holds every field as delivered.
create table if not exists audit.rejected_lines (
    file_id       bigint not null references audit.files (file_id),
    source_line   integer not null,       -- 1-based line in the delivered file (header = 1)
    column_name   text not null,          -- the CSV column that failed (ma_ctmt, ma_tinh)
    raw_value     text,                   -- its value as delivered
    error_code    text not null,          -- unknown_component | unknown_province
    message       text not null,
    period        date,                   -- report month of the file (plan files: January of the plan year)
    province_code text,                   -- the line's ma_tinh (leading zeros restored)
    line          jsonb                   -- the whole line, column -> value as delivered
);
create index if not exists rejected_lines_file_idx on audit.rejected_lines (file_id);

-- Answers of a province to its findings, read from a returned findings workbook (ingestion.responses): one
-- row per answered row, with lineage to the file and row. Only the finding id and the two answer columns are
-- read. `outcome`: accepted, or why not (unknown_finding, closed_finding, no_finding_id), reported back in
-- the province's next alert; `note`: figures typed over (ignored) for an accepted row, the month a closed
-- finding was resolved.
create table if not exists audit.finding_responses (
    file_id        bigint not null references audit.files (file_id),
    source_row     integer not null,       -- worksheet row of the answer
    finding_key    text not null,          -- the finding id as typed in the workbook ('' when empty)
    period         date not null,          -- the month of the findings the workbook lists
    province_code  text not null,
    explanation    text,                   -- Giải trình
    planned_action text,                   -- Hướng xử lý
    outcome        text not null,
    note           text,
    received_at    timestamptz not null
);
create index if not exists finding_responses_key_idx on audit.finding_responses (finding_key, period);

-- Each part of the monthly alert sent, per channel (email | slack) and part (national | province code):
-- a month's part is sent once unless forced.
create table if not exists audit.alert_sends (
    period      date not null,
    channel     text not null,
    part        text not null,
    recipients  text not null,
    forced      boolean not null default false,
    sent_at     timestamptz not null default now()
);
create index if not exists alert_sends_period_idx on audit.alert_sends (period, channel, part);

-- The reference data's builds (seeds and the models that read only seeds): the fingerprint of the project's
-- files they were built from, written after a monthly build that ran and passed all of them. A monthly build
-- leaves them out while the latest fingerprint matches the project and their tables exist
-- (ntp/reference_build.py).
create table if not exists audit.reference_builds (
    fingerprint text not null,
    built_at    timestamptz not null default now()
);
