{#- Hooks of the incremental findings mart (models/marts/fct_findings.sql). -#}

{#- Incremental strategy `replace_findings_periods`: delete the months this run re-evaluates
    (macros/rule_models.sql: findings_periods) and insert the new build of them, in one transaction. The
    model's query has already run (into the temporary relation) when this deletes, so it can read the
    previous build of those months from {{ this }} (a revision's resolved findings, see fct_findings.sql);
    a month left with no finding is emptied too. -#}
{% macro get_incremental_replace_findings_periods_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }} where {{ findings_filter('period') }};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}


{#- Post-hook: a re-evaluated past month (a revised file) can start or end a streak, so the first month of
    the streak of every later row is set again from the statuses (the latest `new` row of the finding at
    or before it, or an `explained` row that started its streak). Statuses only depend on the previous evaluated month, which the run re-evaluated too.
    Costs nothing when the run's earliest month is the latest one in the table (the monthly case). A row a
    revision resolved keeps the first month of the streak it closed. -#}
{% macro update_findings_first_seen() -%}
    {%- set periods = findings_periods() if is_incremental() else none -%}
    {%- if periods -%}
        update {{ this }} as later
        set first_seen_period = coalesce((
            select max(started.period) from {{ this }} as started
            where started.finding_key = later.finding_key
              and (started.status = 'new'
                   or (started.status = 'explained' and started.first_seen_period = started.period))
              and started.period <= later.period
        ), later.first_seen_period)
        where later.period > date '{{ periods[0] }}'
          and later.status <> 'new'
          and later.resolved_by is distinct from 'revision'
    {%- else -%}
        select 1 as nothing_to_update
    {%- endif -%}
{%- endmacro %}
