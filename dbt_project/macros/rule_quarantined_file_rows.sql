{#- One finding per quarantined file (NTP-F01, and NTP-C02 for unknown province or component), read from a
    CTE named `quarantined` (rows of int_quality__quarantined_files): file, sheet, row and reason, with
    province and period when they could be read. -#}
{% macro quarantined_file_rows(rule_id) -%}
select
    '{{ rule_id }}'::text as rule_id,
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
{%- endmacro %}
