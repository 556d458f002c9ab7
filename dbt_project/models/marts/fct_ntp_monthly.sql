{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_rebuilt_periods() }}",
    indexes=[
        {'columns': ['period', 'province_code']},
        {'columns': ['province_code_2025', 'period']},
    ],
) }}
-- The central fact: one row per component × province × month × fund source × capital type × plan block
-- × reporting source (province | treasury), amounts in VND. Incremental by report month (macros/periods.sql).
-- The province reports cumulative figures only: its in-month disbursement is this month's cumulative minus
-- last month's (from the intermediate table, so a monthly run reads two months), restarting in January; in
-- July 2025 last month is the sum of the merged province's predecessors. The Treasury reports it directly.
with successors as (
    select * from {{ ref('int_provinces__successors') }}
),

leaves as (
    select * from {{ ref('int_components__by_capital_type') }}
),

province as (
    select * from {{ ref('int_province_figures__current') }}
    where {{ period_filter('period') }}
),

province_last_month as (
    select
        (last_month.period + interval '1 month')::date as period,
        case
            when last_month.period = ({{ merger_period() }} - interval '1 month')::date
                then coalesce(successors.province_code_2025, last_month.province_code)
            else last_month.province_code
        end as province_code,
        last_month.component_key,
        last_month.fund_source,
        last_month.capital_type,
        last_month.plan_block,
        last_month.disbursed_cumulative_vnd
    from {{ ref('int_province_figures__current') }} as last_month
    left join successors
        on last_month.province_code = successors.province_code and successors.era = '2008'
    where {{ period_filter('last_month.period', -1) }}
        and extract(month from last_month.period) <> 12
),

last_month_by_key as (
    select
        period, province_code, component_key, fund_source, capital_type, plan_block,
        sum(disbursed_cumulative_vnd) as disbursed_cumulative_vnd
    from province_last_month
    group by 1, 2, 3, 4, 5, 6
),

-- provinces that reported last month: a line new this month starts from zero, a missing report is unknown
last_month_reports as (
    select distinct period, province_code from province_last_month
),

province_rows as (
    select
        province.period,
        province.province_code,
        province.component_key,
        province.fund_source,
        province.capital_type,
        province.plan_block,
        'province'::text as reporting_source,
        province.plan_assigned_vnd,
        province.allocated_vnd,
        province.disbursed_cumulative_vnd,
        case
            when extract(month from province.period) = 1 then province.disbursed_cumulative_vnd
            when last_month_reports.period is null then null
            else province.disbursed_cumulative_vnd - coalesce(last_month_by_key.disbursed_cumulative_vnd, 0)
        end as disbursed_in_month_vnd,
        province.file_id
    from province
    left join last_month_by_key
        using (period, province_code, component_key, fund_source, capital_type, plan_block)
    left join last_month_reports using (period, province_code)
),

treasury_rows as (
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
    from {{ ref('int_treasury_figures__by_key') }}
    where {{ period_filter('period') }}
),

both_sources as (
    select * from province_rows
    union all
    select * from treasury_rows
)

select
    both_sources.period,
    both_sources.province_code,
    both_sources.component_key,
    both_sources.fund_source,
    both_sources.capital_type,
    both_sources.plan_block,
    both_sources.reporting_source,
    both_sources.plan_assigned_vnd,
    both_sources.allocated_vnd,
    both_sources.disbursed_cumulative_vnd,
    both_sources.disbursed_in_month_vnd,
    both_sources.file_id,
    successors.province_key,
    successors.province_code_2025,
    leaves.program_key,
    both_sources.fund_source || '.' || both_sources.capital_type as funding_key,
    coalesce(leaves.is_leaf, false) as is_leaf
from both_sources
left join successors
    on both_sources.province_code = successors.province_code
        and successors.era = case when both_sources.period >= {{ merger_period() }} then '2025' else '2008' end
left join leaves
    on both_sources.component_key = leaves.component_key and both_sources.capital_type = leaves.capital_type
