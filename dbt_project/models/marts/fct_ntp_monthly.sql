-- The central fact: one row per component × province × month × fund source × capital type × plan block
-- × reporting source (province | treasury), amounts in VND.
with province as (
    select * from {{ ref('int_province_figures__current') }}
),

treasury as (
    select * from {{ ref('int_treasury_figures__by_key') }}
),

province_with_month as (
    select
        province.*,
        disbursed_cumulative_vnd - coalesce(
            lag(disbursed_cumulative_vnd) over (
                partition by province_code, component_key, fund_source, capital_type, plan_block,
                    extract(year from period)
                order by period
            ), 0) as disbursed_in_month_vnd
    from province
)

select
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    'province'::text as reporting_source,
    plan_assigned_vnd,
    allocated_vnd,
    disbursed_cumulative_vnd,
    disbursed_in_month_vnd,
    file_id
from province_with_month

union all

select
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    'treasury'::text as reporting_source,
    null::numeric as plan_assigned_vnd,
    allocated_vnd,
    disbursed_cumulative_vnd,
    disbursed_in_month_vnd,
    file_id
from treasury
