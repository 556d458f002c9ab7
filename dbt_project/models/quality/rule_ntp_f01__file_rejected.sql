{{ config(materialized='ephemeral') }}
-- NTP-F01 file_rejected: a delivered file could not be read correctly and was quarantined (not a workbook
-- or CSV, encrypted, oversized, required columns missing, an unparseable cell, no identifiable province or
-- period, …). Names the file, sheet, row, column and reason, with province and period when they were read
-- (otherwise the month of the run that received it).
with quarantined as (
    select * from {{ ref('int_quality__quarantined_files') }} where rule_id = 'NTP-F01'
)

select
    'NTP-F01'::text as rule_id,
    case kind when 'province_workbook' then 'province' when 'treasury_extract' then 'treasury' else 'file' end
        as subject,
    period,
    province_code,
    null::text as component_key,
    null::text as fund_source,
    null::text as capital_type,
    null::text as plan_block,
    'file'::text as measure,
    null::numeric as province_value_vnd,
    null::numeric as treasury_value_vnd,
    null::numeric as expected_vnd,
    null::numeric as delta_vnd,
    file_name as source_file,
    error_sheet as source_sheet,
    error_row as source_row,
    concat_ws(' — ', error_code, error_message,
        nullif(concat_ws(' ', error_sheet, error_row::text, error_column), '')) as detail
from quarantined
