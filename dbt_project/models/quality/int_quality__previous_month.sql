{{ config(materialized='ephemeral') }}
-- Each source's figures of the previous calendar month (leaf lines), keyed by the month they are compared
-- in, within the same report year (January has no previous month); only the months before those this run
-- evaluates are read. Across the 1 July 2025 merger the previous month of a merged province is the sum of
-- its predecessors' June figures.
with leaves as (
    select capital_type, component_key from {{ ref('int_quality__component_tree') }}
    where is_leaf
),

province as (
    select
        'province'::text as subject, current_figures.period, current_figures.province_code, component_key,
        current_figures.fund_source, capital_type, current_figures.plan_block, current_figures.plan_assigned_vnd,
        current_figures.allocated_vnd, current_figures.disbursed_cumulative_vnd
    from {{ ref('int_province_figures__current') }} as current_figures
    inner join leaves using (capital_type, component_key)
    where {{ findings_filter('current_figures.period', months_before=1) }}
),

treasury as (
    select
        'treasury'::text as subject, period, province_code, component_key, fund_source,
        capital_type, plan_block, null::numeric as plan_assigned_vnd, allocated_vnd, disbursed_cumulative_vnd
    from {{ ref('int_treasury_figures__by_key') }}
    where {{ findings_filter('period', months_before=1) }}
),

figures as (
    select * from province
    union all
    select * from treasury
),

successors as (
    select province_code, successor_code_2025 from {{ ref('ref_provinces_63') }}
),

-- One row per key already (both inputs are unique on it): passed through on the next month, not grouped.
unmerged as (
    select
        subject, (period + interval '1 month')::date as period, province_code, component_key, fund_source,
        capital_type, plan_block, plan_assigned_vnd, allocated_vnd, disbursed_cumulative_vnd
    from figures
    where extract(month from period) < 12
        and period <> ({{ merger_period() }} - interval '1 month')::date
),

-- The last month before the merger: the predecessors' figures summed on their successor's key.
merged as (
    select
        figures.subject,
        (figures.period + interval '1 month')::date as period,
        coalesce(successors.successor_code_2025, figures.province_code) as province_code,
        figures.component_key,
        figures.fund_source,
        figures.capital_type,
        figures.plan_block,
        sum(figures.plan_assigned_vnd) as plan_assigned_vnd,
        sum(figures.allocated_vnd) as allocated_vnd,
        sum(figures.disbursed_cumulative_vnd) as disbursed_cumulative_vnd
    from figures
    left join successors using (province_code)
    where figures.period = ({{ merger_period() }} - interval '1 month')::date
    group by 1, 2, 3, 4, 5, 6, 7
)

select * from unmerged
union all
select * from merged
