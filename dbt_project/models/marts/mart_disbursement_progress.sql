{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_rebuilt_periods() }}",
    indexes=[
        {'columns': ['period', 'program_key']},
        {'columns': ['province_code', 'period']},
        {'columns': ['province_code_2025', 'period']},
    ],
) }}
-- Tiến độ giải ngân: disbursement progress by province (as reported that month) × program × month × plan
-- block: the published figures (fct_published_figures: the book of record, never a suspect figure), every
-- rate computed from them, the coverage by publication status, and the province-reported and
-- Treasury-reported sums as their own columns. Leaf lines only (the grain of fct_published_figures).
with keys as (
    select * from {{ ref('fct_published_figures') }}
    where {{ period_filter('period') }}
),

measures as (
    select
        keys.period,
        keys.province_code,
        keys.province_key,
        keys.province_code_2025,
        keys.program_key,
        keys.plan_block,
        {{ progress_sums_from_keys('keys') }}
    from keys
    group by 1, 2, 3, 4, 5, 6
),

months as (
    select * from {{ ref('dim_month') }}
),

provinces as (
    select * from {{ ref('dim_province') }}
),

programs as (
    select * from {{ ref('dim_component') }}
    where level = 'program'
),

rates as (
    select
        measures.period,
        measures.province_code,
        measures.province_key,
        measures.province_code_2025,
        measures.program_key,
        measures.plan_block,
        {{ progress_rates('measures', 'months') }}
    from measures
    inner join months using (period)
)

select
    rates.period,
    rates.province_code,
    rates.program_key,
    rates.plan_block,
    rates.province_key,
    rates.province_code_2025,
    provinces.province_name,
    provinces.successor_name as province_name_2025,
    provinces.region,
    provinces.region_en,
    programs.name_vi as program_name_vi,
    programs.name_en as program_name_en,
    months.month_label_vi,
    months.month_label_en,
    months.year,
    {{ progress_columns('rates') }}
from rates
inner join months using (period)
left join provinces using (province_key)
left join programs on rates.program_key = programs.component_key
