{{ config(materialized='ephemeral') }}
-- NTP-I01 disbursed_exceeds_allocated: cumulative disbursement > allocation beyond tolerance, on a leaf
-- line of the province's report or a key of the Treasury extract (each source on its own), either block.
with province as (
    select
        'province'::text as subject, period, province_code, component_key, fund_source,
        capital_type, plan_block, allocated_vnd, disbursed_cumulative_vnd, source_file, source_sheet,
        source_row
    from {{ ref('int_quality__province_leaves') }}
),

treasury as (
    select
        'treasury'::text as subject, period, province_code, component_key, fund_source,
        capital_type, plan_block, allocated_vnd, disbursed_cumulative_vnd, source_file,
        null::text as source_sheet, source_line as source_row
    from {{ ref('int_quality__treasury_keys') }}
),

figures as (
    select * from province
    union all
    select * from treasury
)

select
    'NTP-I01'::text as rule_id,
    subject,
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    'disbursed_cumulative'::text as measure,
    case when subject = 'province' then disbursed_cumulative_vnd end as province_value_vnd,
    case when subject = 'treasury' then disbursed_cumulative_vnd end as treasury_value_vnd,
    coalesce(allocated_vnd, 0) as expected_vnd,
    disbursed_cumulative_vnd - coalesce(allocated_vnd, 0) as delta_vnd,
    source_file,
    source_sheet,
    source_row,
    null::text as detail
from figures
where disbursed_cumulative_vnd - coalesce(allocated_vnd, 0)
    > {{ rule_tolerance('NTP-I01', 'disbursed_cumulative_vnd', 'allocated_vnd') }}
