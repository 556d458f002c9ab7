{{ config(materialized='ephemeral') }}
-- NTP-A03 plan_mismatch: province `Kế hoạch vốn giao` (current plan year) ≠ the annual plan assignment, beyond
-- tolerance. Evaluated only for provinces and plan years the plan file covers, on months with a workbook.
with province as (
    select * from {{ ref('int_quality__province_leaves') }}
    where plan_block = 'current'
),

plan_file as (
    select * from {{ ref('int_quality__plan_file') }}
),

covered as (
    select distinct period, province_code from plan_file
),

reported as (
    select period, province_code from {{ ref('int_quality__province_months') }}
    where has_workbook
),

compared as (
    select
        coalesce(province.period, plan_file.period) as period,
        coalesce(province.province_code, plan_file.province_code) as province_code,
        coalesce(province.component_key, plan_file.component_key) as component_key,
        coalesce(province.fund_source, plan_file.fund_source) as fund_source,
        coalesce(province.capital_type, plan_file.capital_type) as capital_type,
        coalesce(province.plan_assigned_vnd, 0) as province_plan_vnd,
        coalesce(plan_file.plan_assigned_vnd, 0) as file_plan_vnd,
        coalesce(province.source_file, plan_file.source_file) as source_file,
        province.source_sheet,
        coalesce(province.source_row, plan_file.source_row) as source_row
    from province
    full outer join plan_file
        on province.period = plan_file.period
            and province.province_code = plan_file.province_code
            and province.component_key = plan_file.component_key
            and province.fund_source = plan_file.fund_source
            and province.capital_type = plan_file.capital_type
)

select
    'NTP-A03'::text as rule_id,
    'province'::text as subject,
    compared.period,
    compared.province_code,
    compared.component_key,
    compared.fund_source,
    compared.capital_type,
    'current'::text as plan_block,
    'plan_assigned'::text as measure,
    compared.province_plan_vnd as province_value_vnd,
    null::numeric as treasury_value_vnd,
    compared.file_plan_vnd as expected_vnd,
    compared.province_plan_vnd - compared.file_plan_vnd as delta_vnd,
    compared.source_file,
    compared.source_sheet,
    compared.source_row,
    null::text as detail
from compared
inner join covered using (period, province_code)
inner join reported using (period, province_code)
where abs(compared.province_plan_vnd - compared.file_plan_vnd)
    > {{ rule_tolerance('NTP-A03', 'compared.province_plan_vnd', 'compared.file_plan_vnd') }}
