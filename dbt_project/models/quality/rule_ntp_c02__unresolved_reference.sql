{{ config(materialized='ephemeral') }}
-- NTP-C02 unresolved_reference: a province, component or code in a file matches nothing in the reference
-- data — a file quarantined for it (error codes listed in the `reference_error_codes` var), or lines of a
-- loaded Treasury extract or plan file set aside by the ingestion (audit.rejected_lines: an unknown ma_ctmt,
-- or an unknown ma_tinh in a national extract), one finding per file, column and raw code, the raw code in
-- the message. Only current (loaded) files count: a superseded version's lines no longer matter.
with quarantined as (
    select * from {{ ref('int_quality__quarantined_files') }}
    where rule_id = 'NTP-C02'
),

files as (
    select file_id, file_name, kind, period, run_period, status
    from {{ ref('stg_audit__files') }}
    where status = 'loaded'
),

rejected_lines as (
    select * from {{ source('audit', 'rejected_lines') }}
),

set_aside as (
    select
        {{ file_evaluated_period('files.period', 'files.run_period', 'files.status') }} as period,
        case when rejected_lines.column_name = 'ma_tinh' then null else rejected_lines.province_code end
            as province_code,
        files.file_name,
        files.kind,
        rejected_lines.column_name as measure,
        rejected_lines.raw_value as raw_code,
        min(rejected_lines.source_line) as source_row,
        count(*) as line_count
    from rejected_lines
    inner join files using (file_id)
    group by 1, 2, 3, 4, 5, 6
),

unknown_in_lines as (
    select * from set_aside
    where period is not null and {{ findings_filter('period') }}
)

{{ quarantined_file_rows('NTP-C02') }}

union all

select
    'NTP-C02'::text,
    case kind when 'plan_assignment' then 'plan_file' else 'treasury' end,
    period,
    province_code,
    null::text,
    null::text,
    null::text,
    null::text,
    measure,
    null::numeric,
    null::numeric,
    null::numeric,
    null::numeric,
    file_name,
    null::text,
    source_row,
    measure || ' ' || coalesce(raw_code, '(empty)') || ' (' || line_count || ' lines set aside)'
from unknown_in_lines
