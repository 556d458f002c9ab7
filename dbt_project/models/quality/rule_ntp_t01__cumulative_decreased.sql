{{ config(materialized='ephemeral') }}
-- NTP-T01 cumulative_decreased: a cumulative disbursement is lower, beyond tolerance, than the previous
-- month's for the same key and plan block (the province's carried-over block counts as one), in either
-- source, within the same report year; a merged province's July 2025 figure is compared with the sum of
-- its predecessors' June figures.
with province as (
    select
        'province'::text as subject, period, province_code, component_key, fund_source,
        capital_type, plan_block, disbursed_cumulative_vnd, source_file, source_sheet, source_row
    from {{ ref('int_quality__province_leaves') }}
),

treasury as (
    select
        'treasury'::text as subject, period, province_code, component_key, fund_source,
        capital_type, plan_block, disbursed_cumulative_vnd, source_file, null::text as source_sheet,
        source_line as source_row
    from {{ ref('int_quality__treasury_keys') }}
),

previous_month as (
    select * from {{ ref('int_quality__previous_month') }}
),

-- One join per source: joined on `subject` across both sources at once, the two sides were sorted on the seven
-- keys for a merge join, dearer than the comparison itself.
compared as (
    select
        province.*,
        coalesce(province.disbursed_cumulative_vnd, 0) as current_vnd,
        coalesce(previous_month.disbursed_cumulative_vnd, 0) as previous_vnd
    from province
    inner join previous_month
        using (subject, period, province_code, component_key, fund_source, capital_type, plan_block)
    union all
    select
        treasury.*,
        coalesce(treasury.disbursed_cumulative_vnd, 0) as current_vnd,
        coalesce(previous_month.disbursed_cumulative_vnd, 0) as previous_vnd
    from treasury
    inner join previous_month
        using (subject, period, province_code, component_key, fund_source, capital_type, plan_block)
)

select
    'NTP-T01'::text as rule_id,
    subject,
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    'disbursed_cumulative'::text as measure,
    case when subject = 'province' then current_vnd end as province_value_vnd,
    case when subject = 'treasury' then current_vnd end as treasury_value_vnd,
    previous_vnd as expected_vnd,
    current_vnd - previous_vnd as delta_vnd,
    source_file,
    source_sheet,
    source_row,
    null::text as detail
from compared
where previous_vnd - current_vnd > {{ rule_tolerance('NTP-T01', 'current_vnd', 'previous_vnd') }}
