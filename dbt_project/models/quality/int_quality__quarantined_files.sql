-- Quarantined files with their error, classified: an unresolved reference (a province, component or
-- code matching nothing in the reference data) is NTP-C02; any other reason is NTP-F01.
{%- set reference_error_codes = var('reference_error_codes', ['unknown_province', 'unknown_component', 'unknown_code', 'unknown_treasury_code', 'unknown_program']) %}
with files as (
    select * from {{ ref('stg_audit__files') }}
    where status = 'quarantined'
)

select
    case
        when error_code in ({% for code in reference_error_codes %}'{{ code }}'{% if not loop.last %}, {% endif %}{% endfor %})
            then 'NTP-C02'
        else 'NTP-F01'
    end as rule_id,
    file_id,
    file_name,
    kind,
    coalesce(period, run_period) as period,
    period is not null as period_read,
    province_code,
    error_code,
    error_message,
    error_sheet,
    error_row,
    error_column
from files
where coalesce(period, run_period) is not null
