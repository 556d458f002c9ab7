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


{#- post-hook of every model and seed: ANALYZE the table, incremental model or seed just (re)built, in its
    transaction, so the models that read it next in the same build are planned on its new rows. Views:
    nothing. A seed is truncated and loaded again by every build, which leaves it without row estimates
    until autovacuum comes (up to a minute later): joined then, `ref_components` was estimated at 280 rows
    where it has 51, and `int_treasury_figures__by_plan_year` sorted 237 k lines to group them where a hash
    groups them in two thirds of the time (0.43 s against 0.29 s a national month, EXPLAIN ANALYZE).

    On a sample of 300 × var('build_statistics_target') rows (PostgreSQL's default target, 100, samples
    30,000 rows): what the next models need is the month's new key values counted, not fine histograms.
    ANALYZE reads every row of a table smaller than its sample, so at the default its cost grew with the
    history until the sample filled; on the large incremental models after 12 national months it took
    0.34-0.88 s at 100 and 0.03-0.06 s at 10 (same tables, back to back).

    In a monthly run (var `period`) of an incremental model that existed before the run, only the columns of
    its indexes: the keys its readers filter and join on (the period first), whose new month must be counted.
    The other columns keep the statistics of the previous ANALYZE: one month more does not move them. Once
    the sample is full, the cost of ANALYZE is computing each column's statistics, not reading the sample:
    on the 62 columns of mart_disbursement_progress at 60 national months 0.16 s for all of them, 0.02 s for
    its index columns. A table's first build, a full rebuild (no `period`) and
    --full-refresh analyze every column. Autovacuum later analyzes them all again at the server's target. -#}
{% macro analyze_this() -%}
    {%- if config.get('materialized') in ('table', 'incremental', 'seed') -%}
        set local default_statistics_target = {{ var('build_statistics_target') | int }};
        analyze {{ this }}{{ analyzed_columns() }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}


{#- ` (col, …)`: the index columns of an incremental model in a monthly run on its existing table; else
    nothing (every column). -#}
{% macro analyzed_columns() -%}
    {%- if config.get('materialized') == 'incremental' and ntp_period_var() is not none and is_incremental() -%}
        {%- set columns = [] -%}
        {%- for index in config.get('indexes') or [] -%}
            {%- for column in index['columns'] if column not in columns -%}
                {%- do columns.append(column) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if columns %} ({{ columns | join(', ') }}){% endif -%}
    {%- endif -%}
{%- endmacro %}
