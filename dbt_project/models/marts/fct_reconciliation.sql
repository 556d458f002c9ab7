-- Both sources side by side on the reconciliation key, with deltas (province − Treasury, VND).
with province as (
    select * from {{ ref('int_province_figures__current') }}
),

treasury as (
    select * from {{ ref('int_treasury_figures__by_key') }}
)

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
    treasury.source_line as treasury_source_line
from province
full outer join treasury
    on province.period = treasury.period
    and province.province_code = treasury.province_code
    and province.component_key = treasury.component_key
    and province.fund_source = treasury.fund_source
    and province.capital_type = treasury.capital_type
    and province.plan_block = treasury.plan_block
