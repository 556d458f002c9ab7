{{ config(materialized='ephemeral') }}
-- NTP-D03 year_end_risk: on a leaf line of the current-year block, the plan-year disbursement projected
-- linearly to the year-end deadline (ref_deadlines, kind `year_end_disbursement`: 31 January of the next
-- year, i.e. 13 months of execution) is below 100 % of plan: disbursed × months_to_deadline ÷ months_elapsed
-- < plan. Evaluated from the report month given by the var `d03_first_month` (October by default): earlier
-- in the year the year-end surge makes a linear projection meaningless.
with province as (
    select * from {{ ref('int_quality__province_leaves') }}
    where plan_block = 'current' and coalesce(plan_assigned_vnd, 0) > 0
),

deadlines as (
    select
        plan_year,
        deadline_date,
        (extract(year from deadline_date) - plan_year) * 12 + extract(month from deadline_date)
            as months_to_deadline
    from {{ ref('int_quality__deadlines') }}
    where deadline_kind = 'year_end_disbursement'
),

projected as (
    select
        province.*,
        deadlines.deadline_date,
        coalesce(province.disbursed_cumulative_vnd, 0) * deadlines.months_to_deadline
        / extract(month from province.period) as projected_vnd
    from province
    inner join deadlines on deadlines.plan_year = extract(year from province.period)
    where extract(month from province.period) >= {{ var('d03_first_month') }}
)

select
    'NTP-D03'::text as rule_id,
    'province'::text as subject,
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    'disbursed_cumulative'::text as measure,
    coalesce(disbursed_cumulative_vnd, 0) as province_value_vnd,
    null::numeric as treasury_value_vnd,
    plan_assigned_vnd as expected_vnd,
    coalesce(disbursed_cumulative_vnd, 0) - plan_assigned_vnd as delta_vnd,
    source_file,
    source_sheet,
    source_row,
    'projected ' || round(projected_vnd / plan_assigned_vnd * 100, 2) || ' % by '
    || to_char(deadline_date, 'DD/MM/YYYY') as detail
from projected
where projected_vnd < plan_assigned_vnd
