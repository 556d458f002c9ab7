{{ config(materialized='ephemeral') }}
-- NTP-D01 allocation_deadline_missed: on a leaf line (component × capital type × funding source) of the
-- current-year block, allocation < plan − tolerance in a report month ending after the plan year's
-- allocation deadline (ref_deadlines, kind `allocation`: 15 April by default).
with province as (
    select * from {{ ref('int_quality__province_leaves') }}
    where plan_block = 'current'
),

deadlines as (
    select plan_year, deadline_date from {{ ref('int_quality__deadlines') }}
    where deadline_kind = 'allocation'
),

after_deadline as (
    select province.*, deadlines.deadline_date
    from province
    inner join deadlines on deadlines.plan_year = extract(year from province.period)
    where (province.period + interval '1 month' - interval '1 day')::date > deadlines.deadline_date
)

select
    'NTP-D01'::text as rule_id,
    'province'::text as subject,
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    'allocated'::text as measure,
    coalesce(allocated_vnd, 0) as province_value_vnd,
    null::numeric as treasury_value_vnd,
    plan_assigned_vnd as expected_vnd,
    coalesce(allocated_vnd, 0) - plan_assigned_vnd as delta_vnd,
    source_file,
    source_sheet,
    source_row,
    'deadline ' || to_char(deadline_date, 'DD/MM/YYYY') as detail
from after_deadline
where coalesce(allocated_vnd, 0)
    < plan_assigned_vnd - {{ rule_tolerance('NTP-D01', 'allocated_vnd', 'plan_assigned_vnd') }}
