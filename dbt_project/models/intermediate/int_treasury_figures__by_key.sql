-- Treasury figures on the reconciliation key: the current block, and the carried-over block summed over every
-- earlier plan year (the province reports carried-over capital as one block). Per-year detail stays in
-- int_treasury_figures__by_plan_year; a filter on period reaches its index through this view.
with by_plan_year as (
    select * from {{ ref('int_treasury_figures__by_plan_year') }}
)

select
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    sum(allocated_vnd) as allocated_vnd,
    sum(disbursed_cumulative_vnd) as disbursed_cumulative_vnd,
    sum(disbursed_in_month_vnd) as disbursed_in_month_vnd,
    sum(line_count)::bigint as line_count,
    min(file_id) as file_id,
    min(source_line) as source_line,
    min(plan_year) as earliest_plan_year,
    count(*) as plan_year_count
from by_plan_year
group by period, province_code, component_key, fund_source, capital_type, plan_block
