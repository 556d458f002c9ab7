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
    so the models that read it next in the same build are planned on its new rows. Views: nothing.

    On a sample of 300 × var('build_statistics_target') rows (PostgreSQL's default target, 100, samples
    30,000 rows): what the next models need is the month's new key values counted, not fine histograms.
    ANALYZE reads every row of a table smaller than its sample, so at the default its cost grew with the
    history until the sample filled; on the large incremental models after 12 national months it took
    0.34-0.88 s at 100 and 0.03-0.06 s at 10 (same tables, back to back: docs/performance.md). Autovacuum
    later analyzes them again at the server's own target. -#}
{% macro analyze_this() -%}
    {%- if config.get('materialized') in ('table', 'incremental') -%}
        set local default_statistics_target = {{ var('build_statistics_target') | int }};
        analyze {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
