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
-- Treasury lines of the current extracts summed per plan year: the reconciliation key plus plan_year.
-- A line whose plan year is the report year is the current block; an earlier plan year is carried-over
-- capital (vốn kéo dài), which the province reports as one block: int_treasury_figures__by_key sums it, this
-- model keeps the per-year detail for the carry-over deadline rules. Incremental by report month; the raw
-- lines are filtered by the rebuilt months as literals, so the planner reads only those months' partitions
-- of raw.treasury_lines and a month costs what its lines cost, whatever the history.
with current_files as (
    select * from {{ ref('int_audit__current_files') }}
    where kind = 'treasury_extract'
        and {{ period_filter('period') }}
),

lines as (
    select stg.*
    from {{ ref('stg_treasury__lines') }} as stg
    inner join current_files using (file_id)
    where {{ period_filter('stg.period') }}
),

components as (
    select component_key, treasury_code from {{ ref('ref_components') }}
)

select
    lines.period,
    lines.province_code,
    components.component_key,
    lines.fund_source,
    lines.capital_type,
    lines.plan_year,
    case when lines.plan_year < extract(year from lines.period) then 'carryover' else 'current' end
        as plan_block,
    sum(lines.allocated_vnd) as allocated_vnd,
    sum(lines.paid_cumulative_vnd) as disbursed_cumulative_vnd,
    sum(lines.paid_in_month_vnd) as disbursed_in_month_vnd,
    count(*) as line_count,
    min(lines.file_id) as file_id,
    min(lines.source_line) as source_line
from lines
inner join components using (treasury_code)
group by 1, 2, 3, 4, 5, 6
