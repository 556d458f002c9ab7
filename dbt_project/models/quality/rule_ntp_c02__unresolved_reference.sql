-- NTP-C02 unresolved_reference: a province, component or code in a file matches nothing in the reference
-- data — a file quarantined for it (error codes listed in the `reference_error_codes` var), or a line of a
-- loaded Treasury extract or plan file whose ma_ctmt / ma_tinh is unknown (such lines are otherwise left
-- out of every sum). The raw code is in the message.
with quarantined as (
    select * from {{ ref('int_quality__quarantined_files') }} where rule_id = 'NTP-C02'
),

files as (
    select * from {{ ref('stg_audit__files') }} where status = 'loaded'
),

components as (
    select treasury_code from {{ ref('ref_components') }}
),

provinces as (
    select province_code, valid_from, coalesce(valid_to, date '9999-12-31') as valid_to
    from {{ ref('dim_province') }}
),

treasury_lines as (
    select lines.*, files.file_name
    from {{ ref('stg_treasury__lines') }} as lines
    inner join files using (file_id)
),

unknown_in_lines as (
    select
        period, province_code, file_name, 'ma_ctmt'::text as measure, treasury_code as raw_code,
        min(source_line) as source_row, count(*) as line_count
    from treasury_lines
    where treasury_code not in (select treasury_code from components)
    group by 1, 2, 3, 4, 5
    union all
    select
        lines.period, null::text, lines.file_name, 'ma_tinh'::text, lines.province_code,
        min(lines.source_line), count(*)
    from treasury_lines as lines
    where not exists (
        select 1 from provinces
        where provinces.province_code = lines.province_code
          and lines.period between provinces.valid_from and provinces.valid_to
    )
    group by 1, 2, 3, 4, 5
),

plan_lines as (
    select plan_lines.*, files.file_name, files.run_period
    from {{ ref('stg_treasury__plan_assignments') }} as plan_lines
    inner join files using (file_id)
),

unknown_in_plan as (
    select
        run_period as period, province_code, file_name, 'ma_ctmt'::text as measure,
        treasury_code as raw_code, min(source_line) as source_row, count(*) as line_count
    from plan_lines
    where treasury_code not in (select treasury_code from components)
      and run_period is not null
    group by 1, 2, 3, 4, 5
)

select
    'NTP-C02'::text as rule_id,
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

union all

select
    'NTP-C02'::text,
    'treasury'::text,
    period,
    province_code,
    null::text,
    null::text,
    null::text,
    null::text,
    measure,
    null::numeric,
    null::numeric,
    null::numeric,
    null::numeric,
    file_name,
    null::text,
    source_row,
    measure || ' ' || raw_code || ' (' || line_count || ' lines)'
from unknown_in_lines

union all

select
    'NTP-C02'::text,
    'plan_file'::text,
    period,
    province_code,
    null::text,
    null::text,
    null::text,
    null::text,
    measure,
    null::numeric,
    null::numeric,
    null::numeric,
    null::numeric,
    file_name,
    null::text,
    source_row,
    measure || ' ' || raw_code || ' (' || line_count || ' lines)'
from unknown_in_plan
