{#- The read-only role for BI tools (Superset, Metabase, Power BI, plain SQL): SELECT on the `marts`
    schema only, nothing else, no write anywhere.

    The role itself (and its password) is created once by an administrator (`ntp warehouse init`, which
    sends only a SCRAM verifier); dbt never creates roles nor handles a password. When the role exists,
    on-run-start gives it USAGE on marts and default privileges so every table dbt creates there is
    readable; on-run-end grants SELECT on every existing table/view of marts. Without the role: a log line. -#}

{% macro bi_role_name() -%}{{ var('bi_role', 'ntp_bi') }}{%- endmacro %}

{% macro bi_role_exists() -%}
    {%- set found = run_query("select 1 from pg_roles where rolname = '" ~ bi_role_name() ~ "'") -%}
    {{ return(found | length > 0) }}
{%- endmacro %}

{% macro ensure_bi_role() -%}
    {%- if not execute or target.type != 'postgres' -%}{{ return('') }}{%- endif -%}
    {%- set role = bi_role_name() -%}
    {%- if not bi_role_exists() -%}
        {{ log(
            "BI role " ~ role ~ " does not exist: an administrator creates it once (ntp warehouse init)",
            info=true,
        ) }}
        {{ return('') }}
    {%- endif -%}
    {%- set sql -%}
    create schema if not exists marts;
    revoke all on schema marts from {{ role }};
    grant usage on schema marts to {{ role }};
    alter default privileges in schema marts grant select on tables to {{ role }};
    {%- endset -%}
    {%- do run_query(sql) -%}
    {{ return('') }}
{%- endmacro %}

{% macro grant_bi_select() -%}
    {%- if not execute or target.type != 'postgres' -%}{{ return('') }}{%- endif -%}
    {%- if not bi_role_exists() -%}{{ return('') }}{%- endif -%}
    {%- set role = bi_role_name() -%}
    {%- do run_query(
        "grant usage on schema marts to " ~ role ~ "; grant select on all tables in schema marts to " ~ role
    ) -%}
    {{ return('') }}
{%- endmacro %}
