{#- The rule models that fct_findings stacks, one per row of seeds/ref_rule_catalogue.csv (the only list of
    rules; the model of NTP-A01 allocation_mismatch is rule_ntp_a01__allocation_mismatch). dbt resolves
    ref() while parsing, before a seed can be read, so the names are written here too;
    tests/unit/test_rule_registry.py fails when they differ from the catalogue. Each model returns only the
    failing rows, with the same columns. -#}
{% macro rule_models() -%}
    {{ return([
        'rule_ntp_a01__allocation_mismatch',
        'rule_ntp_a02__disbursement_mismatch',
        'rule_ntp_a03__plan_mismatch',
        'rule_ntp_a04__one_sided_line',
        'rule_ntp_c01__report_missing',
        'rule_ntp_c02__unresolved_reference',
        'rule_ntp_d01__allocation_deadline_missed',
        'rule_ntp_d02__carryover_deadline_missed',
        'rule_ntp_d03__year_end_risk',
        'rule_ntp_f01__file_rejected',
        'rule_ntp_i01__disbursed_exceeds_allocated',
        'rule_ntp_i02__allocated_exceeds_plan',
        'rule_ntp_i03__parts_do_not_sum',
        'rule_ntp_i04__rate_mismatch',
        'rule_ntp_t01__cumulative_decreased',
        'rule_ntp_t02__unit_scale_suspect',
    ]) }}
{%- endmacro %}


{#- The month a file's findings belong to: its report month, or the month of the run that received it when
    the period could not be read or is not a report month yet (a quarantined `future_period` file). -#}
{% macro file_evaluated_period(period='period', run_period='run_period', status='status') -%}
    case
        when {{ status }} = 'quarantined' and {{ run_period }} is not null
            and ({{ period }} is null or {{ period }} > {{ run_period }}) then {{ run_period }}
        else coalesce({{ period }}, {{ run_period }})
    end
{%- endmacro %}


{#- The months whose findings a run re-evaluates (var `period` set), as a SQL query: the months the star
    schema rebuilds (macros/periods.sql: with a plan file, every month of its plan year) and the next
    evaluated month after each (its statuses compare with them); of those, only the evaluated ones. A month
    no file belongs to yet (the month after the run's, before its files arrive) has no findings to replace:
    fct_findings keeps only evaluated months, and reading its previous month for NTP-T01 and T02 doubled what
    a monthly run compares. -#}
{% macro findings_periods_query() -%}
    with files as (
        select file_id, status, period, run_period from {{ source('audit', 'files') }}
    ),

    evaluated as (
        select distinct {{ file_evaluated_period() }} as period
        from files
        where {{ file_evaluated_period() }} is not null
    ),

    touched as (
        {{ rebuilt_periods_query() }}
    )

    select period from (
        select period from touched
        union
        select (select min(evaluated.period) from evaluated where evaluated.period > touched.period)
        from touched
    ) as months
    where period in (select period from evaluated)
{%- endmacro %}


{#- Those months as a list of 'YYYY-MM-DD' strings, or none (no `period`: every month). -#}
{% macro findings_periods() -%}
    {%- if ntp_period_var() is none -%}{{ return(none) }}{%- endif -%}
    {%- if not execute -%}{{ return([ntp_period_var()]) }}{%- endif -%}
    {%- set rows = run_query('select period from (' ~ findings_periods_query() ~ ') as months '
        ~ 'where period is not null order by 1') -%}
    {{ return(rows.columns[0].values() | map('string') | list) }}
{%- endmacro %}


{#- A boolean SQL expression: `column` (shifted back by `months_before`) is a month this run re-evaluates,
    as literal dates so the period indexes of the incremental tables are used; `true` without `period`. -#}
{% macro findings_filter(column, months_before=0) -%}
    {%- set periods = findings_periods() -%}
    {%- if periods is none -%}
        true
    {%- elif periods | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in (
        {%- for p in periods -%}
            {%- if months_before == 0 -%}date '{{ p }}'
            {%- else -%}(date '{{ p }}' - interval '{{ months_before }} month')::date{%- endif -%}
            {%- if not loop.last %}, {% endif -%}
        {%- endfor -%})
    {%- endif -%}
{%- endmacro %}
