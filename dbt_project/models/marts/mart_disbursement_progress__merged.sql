{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_rebuilt_periods() }}",
    indexes=[
        {'columns': ['period', 'program_key']},
        {'columns': ['province_code_2025', 'period']},
    ],
) }}
-- The same progress under the 34 post-merger provinces for the whole history: a province merged on
-- 1 July 2025 is followed back through 2021–2025 as the sum of its predecessors (NQ 202/2025/QH15).
-- Published figures, rates and coverage as in mart_disbursement_progress; provinces are counted as reporting
-- units (the predecessors before the merger).
with keys as (
    select * from {{ ref('fct_published_figures') }}
    where {{ period_filter('period') }} and province_code_2025 is not null
),

measures as (
    select
        keys.period,
        keys.province_code_2025,
        keys.program_key,
        keys.plan_block,
        {{ progress_sums_from_keys('keys') }},
        count(distinct keys.province_code) filter (where keys.in_province_report or keys.in_treasury_extract)
            as reporting_units
    from keys
    group by 1, 2, 3, 4
),

months as (
    select * from {{ ref('dim_month') }}
),

provinces as (
    select * from {{ ref('dim_province') }}
    where era = '2025'
),

programs as (
    select * from {{ ref('dim_component') }}
    where level = 'program'
),

rates as (
    select
        measures.period,
        measures.province_code_2025,
        measures.program_key,
        measures.plan_block,
        measures.reporting_units,
        {{ progress_rates('measures', 'months') }}
    from measures
    inner join months using (period)
)

select
    rates.period,
    rates.province_code_2025,
    rates.program_key,
    rates.plan_block,
    provinces.province_key,
    provinces.province_name as province_name_2025,
    provinces.region,
    provinces.region_en,
    provinces.predecessor_count,
    rates.reporting_units,
    programs.name_vi as program_name_vi,
    programs.name_en as program_name_en,
    months.month_label_vi,
    months.month_label_en,
    months.year,
    {{ progress_columns('rates') }}
from rates
inner join months using (period)
left join provinces on rates.province_code_2025 = provinces.province_code
left join programs on rates.program_key = programs.component_key
