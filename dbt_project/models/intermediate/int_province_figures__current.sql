{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=["{{ delete_rebuilt_periods() }}", "set local enable_nestloop = off"],
    indexes=[{'columns': ['period', 'province_code']}],
) }}
-- Hash joins only (the pre-hook): the current files are estimated at one row (a filter on row_number()),
-- and a full rebuild then nested-looped every current file over every month's partition (60 files × 17 M
-- lines at 60 national months); a monthly build hashes its one or two files either way.
-- The province's figures from the current version of each workbook, one row per reconciliation key
-- (period × province × component × fund source × capital type × plan block), measures side by side, in VND
-- (the loader converted the workbook's unit; unit and factor are kept for tolerances and audit).
-- Superseded versions stay in raw and are left out here; TOTAL lines and Tổng số columns are kept
-- only in staging, for the parts-do-not-sum rule. Incremental by report month (macros/periods.sql).
with current_files as (
    select * from {{ ref('int_audit__current_files') }}
    where kind = 'province_workbook'
        and {{ period_filter('period') }}
),

-- the rebuilt months as literals: only their partitions of raw.province_report_cells are read
cells as (
    select * from {{ ref('stg_province__report_cells') }}
    where {{ period_filter('period') }}
),

-- joined once, so a monthly run reaches its files' cells through the file_id index
amounts as (
    select
        cells.*,
        current_files.file_name,
        current_files.version as file_version,
        current_files.report_date,
        current_files.unit,
        current_files.unit_factor_vnd
    from cells
    inner join current_files using (file_id)
    where cells.component_key <> 'TOTAL'
        and cells.fund_source in ('NSTW', 'NSDP')
        and cells.measure in ('plan_assigned', 'allocated', 'disbursed_cumulative')
)

select
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    sum(value) filter (where measure = 'plan_assigned') as plan_assigned_vnd,
    sum(value) filter (where measure = 'allocated') as allocated_vnd,
    sum(value) filter (where measure = 'disbursed_cumulative') as disbursed_cumulative_vnd,
    min(file_id) as file_id,
    min(file_name) as source_file,
    min(source_sheet) as source_sheet,
    min(source_row) as source_row,
    max(file_version) as file_version,
    max(report_date) as report_date,
    max(unit) as unit,
    max(unit_factor_vnd) as unit_factor_vnd
from amounts
group by period, province_code, component_key, fund_source, capital_type, plan_block
