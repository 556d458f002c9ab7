{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_rebuilt_periods() }}",
    indexes=[{'columns': ['period', 'region']}],
) }}
-- Regional roll-up (vùng kinh tế - xã hội) of the province progress: region of the province as it existed
-- that month × program × month × plan block.
with progress as (
    select * from {{ ref('mart_disbursement_progress') }}
    where {{ period_filter('period') }}
),

measures as (
    select
        period,
        region, program_key, plan_block,
        {{ progress_sums_from_mart() }}
    from progress
    group by period, region, program_key, plan_block
),

months as (
    select * from {{ ref('dim_month') }}
),

programs as (
    select * from {{ ref('dim_component') }}
    where level = 'program'
),

regions as (
    select * from {{ ref('ref_regions') }}
),

rates as (
    select
        measures.period,
        measures.region,
        measures.program_key,
        measures.plan_block,
        {{ progress_rates('measures', 'months') }}
    from measures
    inner join months using (period)
)

select
    rates.period,
    rates.region,
    regions.region_en,
    regions.region_order,
    rates.program_key,
    rates.plan_block,
    programs.name_vi as program_name_vi,
    programs.name_en as program_name_en,
    months.month_label_vi,
    months.month_label_en,
    months.year,
    {{ progress_columns('rates') }}
from rates
inner join months using (period)
left join programs on rates.program_key = programs.component_key
left join regions on rates.region = regions.region
