{{ config(materialized='ephemeral') }}
-- NTP-I02 allocated_exceeds_plan: in the province's report, allocation > plan assigned beyond tolerance
-- (leaf lines, either block); when the annual plan file covers the province-year, either source's
-- current-year allocation > the assigned plan. One finding per source and line; the province's own plan is
-- checked first.
with province as (
    select * from {{ ref('int_quality__province_leaves') }}
),

treasury as (
    select * from {{ ref('int_quality__treasury_keys') }}
    where plan_block = 'current'
),

plan_file as (
    select * from {{ ref('int_quality__plan_file') }}
),

province_checked as (
    select
        'province'::text as subject,
        province.period, province.province_code, province.component_key, province.fund_source,
        province.capital_type, province.plan_block,
        province.allocated_vnd as value_vnd,
        case
            when province.allocated_vnd - coalesce(province.plan_assigned_vnd, 0)
                > {{ rule_tolerance('NTP-I02', 'province.allocated_vnd', 'province.plan_assigned_vnd') }}
                then coalesce(province.plan_assigned_vnd, 0)
            else plan_file.plan_assigned_vnd
        end as plan_vnd,
        province.source_file, province.source_sheet, province.source_row
    from province
    left join plan_file using (period, province_code, component_key, fund_source, capital_type, plan_block)
),

treasury_checked as (
    select
        'treasury'::text as subject,
        treasury.period, treasury.province_code, treasury.component_key, treasury.fund_source,
        treasury.capital_type, treasury.plan_block,
        treasury.allocated_vnd as value_vnd,
        plan_file.plan_assigned_vnd as plan_vnd,
        treasury.source_file, null::text as source_sheet, treasury.source_line as source_row
    from treasury
    inner join plan_file using (period, province_code, component_key, fund_source, capital_type, plan_block)
),

checked as (
    select * from province_checked
    union all
    select * from treasury_checked
)

select
    'NTP-I02'::text as rule_id,
    subject,
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    'allocated'::text as measure,
    case when subject = 'province' then value_vnd end as province_value_vnd,
    case when subject = 'treasury' then value_vnd end as treasury_value_vnd,
    plan_vnd as expected_vnd,
    value_vnd - plan_vnd as delta_vnd,
    source_file,
    source_sheet,
    source_row,
    null::text as detail
from checked
where plan_vnd is not null
    and value_vnd - plan_vnd > {{ rule_tolerance('NTP-I02', 'value_vnd', 'plan_vnd') }}
