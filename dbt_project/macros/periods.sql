{#- Incremental builds by report month.

    A run for report month P (`--vars '{period: "YYYY-MM"}'`, or the environment variable NTP_DBT_PERIOD as
    the monthly DAG passes it: command-line vars are part of dbt's parse fingerprint, so a different month
    each run would force a full re-parse, while a variable read only at execution does not) rebuilds:
      * P itself,
      * every month for which a file was ingested by the run of P (a revised workbook for a past month,
        a late Treasury extract: audit.files.run_period = P),
      * for an annual plan file ingested by the run of P (its period is January of its plan year), every month
        of its plan year: the plan is a figure of each of them (a plan file that arrives late, or a revised
        one, changes the published plan of the months already built),
      * the month after each of those (its in-month disbursement is measured against them).
    Each rebuilt month is deleted and inserted again (pre-hook + append), so a rerun is idempotent and a
    month whose files were all superseded or quarantined is emptied. Without `period` every month is
    rebuilt (a full rebuild in place). -#}

{% macro ntp_period_var() -%}
    {%- set p = var('period', none) -%}
    {%- if p is none and execute -%}
        {#- read at execution only, so the parse (and its partial_parse.msgpack) does not depend on it -#}
        {%- set p = env_var('NTP_DBT_PERIOD', '') -%}
    {%- endif -%}
    {#- unit tests check the logic on their given rows, whatever month the run is for -#}
    {%- if model is defined and model is not none and model.get('resource_type') == 'unit_test' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if p is none or (p | string | trim) in ('', 'none', 'None', 'null') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set p = p | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}$', p) -%}
        {{ exceptions.raise_compiler_error(
            "the report month (var 'period' or NTP_DBT_PERIOD) must be YYYY-MM, got '" ~ p ~ "'"
        ) }}
    {%- endif -%}
    {{ return(p ~ '-01') }}
{%- endmacro %}


{#- The rebuilt months as a SQL query (no database call, usable in test `where` configs). -#}
{% macro rebuilt_periods_query() -%}
    {%- set p = ntp_period_var() -%}
    select distinct rebuilt.period
    from (
        select date '{{ p }}' as period
        union
        select period from {{ source('audit', 'files') }}
        where run_period = date '{{ p }}' and period is not null
        union
        select generate_series(period, (period + interval '11 month')::date, interval '1 month')::date
        from {{ source('audit', 'files') }}
        where run_period = date '{{ p }}' and kind = 'plan_assignment' and period is not null
    ) as touched
    cross join lateral (
        values (touched.period), ((touched.period + interval '1 month')::date)
    ) as rebuilt (period)
{%- endmacro %}


{#- The rebuilt months as a list of 'YYYY-MM-DD' strings, or none for "every month". -#}
{% macro rebuilt_periods() -%}
    {%- if ntp_period_var() is none -%}{{ return(none) }}{%- endif -%}
    {%- if not execute -%}{{ return([ntp_period_var()]) }}{%- endif -%}
    {%- set rows = run_query(rebuilt_periods_query() ~ ' order by 1') -%}
    {{ return(rows.columns[0].values() | map('string') | list) }}
{%- endmacro %}


{#- A boolean SQL expression: `column` is one of the rebuilt months (shifted by offset_months), or true.
    Literal dates, so PostgreSQL uses the period indexes of the incremental tables. -#}
{% macro period_filter(column, offset_months=0) -%}
    {%- set periods = rebuilt_periods() -%}
    {%- if periods is none -%}
        true
    {%- else -%}
        {{ column }} in (
        {%- for p in periods -%}
            {%- if offset_months == 0 -%}date '{{ p }}'
            {%- else -%}(date '{{ p }}' + interval '{{ offset_months }} month')::date{%- endif -%}
            {%- if not loop.last %}, {% endif -%}
        {%- endfor -%})
    {%- endif -%}
{%- endmacro %}


{#- For test `where` configs: limit a test of a large incremental table to the months of this run. -#}
{% macro rebuilt_periods_where(column='period') -%}
    {%- if ntp_period_var() is none -%}true{%- else -%}{{ column }} in ({{ rebuilt_periods_query() }}){%- endif -%}
{%- endmacro %}


{#- Pre-hook of every period-keyed incremental model: delete the months this run rebuilds. -#}
{% macro delete_rebuilt_periods(column='period') -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ period_filter(column) }}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}


{#- The first month of the 34 post-merger provinces (NQ 202/2025/QH15). -#}
{% macro merger_period() -%}
    date '{{ var("merger_date") }}'
{%- endmacro %}


{#- Percentage with two decimals, null when the denominator is zero or missing. -#}
{% macro pct(numerator, denominator) -%}
    round(100.0 * {{ numerator }} / nullif({{ denominator }}, 0), 2)
{%- endmacro %}


{#- VND per unit of a workbook's unit line (ingestion writes amounts in VND and keeps the unit). -#}
{% macro unit_factor_vnd(unit_column) -%}
    case {{ unit_column }}
        when 'dong' then 1::numeric
        when 'trieu_dong' then 1000000::numeric
        when 'ty_dong' then 1000000000::numeric
    end
{%- endmacro %}
