-- The province's figures from the current version of each workbook, one row per reconciliation key
-- (period × province × component × fund source × capital type × plan block), measures side by side.
-- Superseded versions stay in raw and are left out here; TOTAL lines and Tổng số columns are kept
-- only in staging, for the parts-do-not-sum rule.
with cells as (
    select * from {{ ref('stg_province__report_cells') }}
),

current_files as (
    select file_id, file_name
    from {{ ref('stg_audit__files') }}
    where kind = 'province_workbook' and status = 'loaded'
),

amounts as (
    select cells.*, current_files.file_name
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
    min(source_row) as source_row
from amounts
group by period, province_code, component_key, fund_source, capital_type, plan_block
