{{ config(materialized='ephemeral') }}
-- NTP-C01 report_missing: no loaded provincial workbook, or no loaded Treasury extract, for a province that
-- exists in the month (63 before 1 July 2025, 34 from then). A quarantined file does not count as
-- delivered; it is named in the detail when it was the only one.
with province_months as (
    select * from {{ ref('int_quality__province_months') }}
),

missing as (
    select
        period, province_code, 'province_workbook'::text as measure,
        quarantined_workbooks as quarantined_files
    from province_months
    where not has_workbook
    union all
    select
        period, province_code, 'treasury_extract'::text as measure,
        quarantined_treasury_files as quarantined_files
    from province_months
    where not has_treasury
)

select
    'NTP-C01'::text as rule_id,
    case when measure = 'province_workbook' then 'province' else 'treasury' end as subject,
    period,
    province_code,
    null::text as component_key,
    null::text as fund_source,
    null::text as capital_type,
    null::text as plan_block,
    measure,
    null::numeric as province_value_vnd,
    null::numeric as treasury_value_vnd,
    null::numeric as expected_vnd,
    null::numeric as delta_vnd,
    null::text as source_file,
    null::text as source_sheet,
    null::integer as source_row,
    measure || coalesce(' (quarantined: ' || quarantined_files || ')', '') as detail
from missing
