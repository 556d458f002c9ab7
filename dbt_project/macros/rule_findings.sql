{#- Hooks of the incremental findings mart (models/marts/fct_findings.sql). -#}

{#- Pre-hook: delete the months this run re-evaluates (macros/rule_models.sql: findings_periods). -#}
{% macro delete_findings_periods() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ findings_filter('period') }}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}


{#- Post-hook: a re-evaluated past month (a revised file) can start or end a streak, so the first month of
    the streak of every later row is set again from the statuses (the latest `new` row of the finding at
    or before it). Statuses only depend on the previous evaluated month, which the run re-evaluated too.
    Costs nothing when the run's earliest month is the latest one in the table (the monthly case). -#}
{% macro update_findings_first_seen() -%}
    {%- set periods = findings_periods() if is_incremental() else none -%}
    {%- if periods -%}
        update {{ this }} as later
        set first_seen_period = coalesce((
            select max(started.period) from {{ this }} as started
            where started.finding_key = later.finding_key
              and started.status = 'new'
              and started.period <= later.period
        ), later.first_seen_period)
        where later.period > date '{{ periods[0] }}'
          and later.status <> 'new'
    {%- else -%}
        select 1 as nothing_to_update
    {%- endif -%}
{%- endmacro %}
