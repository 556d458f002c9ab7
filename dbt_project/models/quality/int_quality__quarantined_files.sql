{{ config(materialized='ephemeral') }}
-- Quarantined files of the months this run evaluates, with their error, classified: an unresolved
-- reference (a province, component or code matching nothing in the reference data) is NTP-C02; any other
-- reason is NTP-F01. A file belongs to its report month when it could be read, else (no period, or a
-- month that has not started) to the month of the run that received it.
{%- set reference_error_codes = var('reference_error_codes') %}
with files as (
    select *, {{ file_evaluated_period() }} as evaluated_period
    from {{ ref('stg_audit__files') }}
    where status = 'quarantined'
)

select
    case
        when error_code in (
                {%- for code in reference_error_codes %}
                    '{{ code }}'{% if not loop.last %},{% endif %}
                {%- endfor %}
            )
            then 'NTP-C02'
        else 'NTP-F01'
    end as rule_id,
    file_id,
    file_name,
    kind,
    evaluated_period as period,
    period is not null as period_read,
    province_code,
    error_code,
    error_message,
    error_sheet,
    error_row,
    error_column
from files
where evaluated_period is not null
    and {{ findings_filter('evaluated_period') }}
