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
-- Both sources side by side on the reconciliation key (month × province × component × fund source × capital
-- type × plan block), with deltas (province − Treasury, VND). The province's one carried-over block meets the
-- Treasury's lines of every earlier plan year summed. Incremental by report month.
with province as (
    select * from {{ ref('int_province_figures__current') }}
    where {{ period_filter('period') }}
),

treasury as (
    select * from {{ ref('int_treasury_figures__by_key') }}
    where {{ period_filter('period') }}
),

successors as (
    select * from {{ ref('int_provinces__successors') }}
),

leaves as (
    select * from {{ ref('int_components__by_capital_type') }}
),

side_by_side as (
    select
        coalesce(province.period, treasury.period) as period,
        coalesce(province.province_code, treasury.province_code) as province_code,
        coalesce(province.component_key, treasury.component_key) as component_key,
        coalesce(province.fund_source, treasury.fund_source) as fund_source,
        coalesce(province.capital_type, treasury.capital_type) as capital_type,
        coalesce(province.plan_block, treasury.plan_block) as plan_block,
        province.period is not null as in_province_report,
        treasury.period is not null as in_treasury_extract,
        province.plan_assigned_vnd as province_plan_assigned_vnd,
        province.allocated_vnd as province_allocated_vnd,
        treasury.allocated_vnd as treasury_allocated_vnd,
        province.allocated_vnd - treasury.allocated_vnd as allocated_delta_vnd,
        province.disbursed_cumulative_vnd as province_disbursed_cumulative_vnd,
        treasury.disbursed_cumulative_vnd as treasury_disbursed_cumulative_vnd,
        province.disbursed_cumulative_vnd - treasury.disbursed_cumulative_vnd as disbursed_delta_vnd,
        province.source_file,
        province.source_sheet,
        province.source_row,
        treasury.file_id as treasury_file_id,
        treasury.source_line as treasury_source_line,
        province.file_id as province_file_id,
        province.unit_factor_vnd as province_unit_factor_vnd,
        treasury.disbursed_in_month_vnd as treasury_disbursed_in_month_vnd,
        treasury.line_count as treasury_line_count,
        treasury.earliest_plan_year as treasury_earliest_plan_year
    from province
    full outer join treasury
        on province.period = treasury.period
            and province.province_code = treasury.province_code
            and province.component_key = treasury.component_key
            and province.fund_source = treasury.fund_source
            and province.capital_type = treasury.capital_type
            and province.plan_block = treasury.plan_block
)

select
    side_by_side.*,
    successors.province_key,
    successors.province_code_2025,
    leaves.program_key,
    coalesce(leaves.is_leaf, false) as is_leaf
from side_by_side
left join successors
    on side_by_side.province_code = successors.province_code
        and successors.era = case when side_by_side.period >= {{ merger_period() }} then '2025' else '2008' end
left join leaves
    on side_by_side.component_key = leaves.component_key and side_by_side.capital_type = leaves.capital_type
