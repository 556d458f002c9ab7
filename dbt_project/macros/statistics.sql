{#- Planner statistics where a monthly run changes data (docs/performance.md, "Statistics").

    Autovacuum analyzes a table some time after a tenth of it changed; the monthly build reads rows that a
    load or the previous model wrote seconds earlier. Planned on stale or missing statistics (a table
    created empty a minute ago, a month's rows beyond the histogram), a join that takes a second can take
    minutes. So the build refreshes them itself, where the data changed, before it is read. -#}


{#- on-run-start: ANALYZE the raw and audit tables that changed since their last ANALYZE (the month's
    loads), once per dbt invocation rather than once per loaded file. -#}
{% macro analyze_changed_sources() -%}
    {%- if execute -%}
        {%- set changed = run_query(
            "select format('%I.%I', schemaname, relname) from pg_stat_user_tables"
            " where schemaname in ('raw', 'audit')"
            " and (n_mod_since_analyze > 0 or coalesce(last_analyze, last_autoanalyze) is null)"
            " order by 1"
        ).columns[0].values() -%}
        {%- if changed | length > 0 -%}
            analyze {{ changed | join(', ') }}
        {%- else -%}
            select 'statistics of raw and audit tables are current'
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- post-hook of every model: ANALYZE the table or incremental model just (re)built, in its transaction,
    so the models that read it next in the same build are planned on its new rows. Views: nothing. -#}
{% macro analyze_this() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
