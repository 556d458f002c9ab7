{#- The read-only role for BI tools (Metabase, Superset, Power BI, plain SQL): SELECT on the `marts`
    schema only, nothing else, no write anywhere.

    on-run-start: create the role if missing (LOGIN only when NTP_BI_PASSWORD is set; the password comes
    from the environment, never from the repository), give it USAGE on marts and default privileges so
    every table dbt creates there is readable. on-run-end: SELECT on every existing table/view of marts.
    A dbt user without CREATEROLE only logs a warning (an administrator then creates the role once). -#}

{% macro bi_role_name() -%}{{ var('bi_role', 'ntp_bi') }}{%- endmacro %}

{% macro ensure_bi_role() -%}
    {%- if not execute or target.type != 'postgres' -%}{{ return('') }}{%- endif -%}
    {%- set role = bi_role_name() -%}
    {%- set password = env_var('NTP_BI_PASSWORD', '') -%}
    {%- set can = run_query("select rolsuper or rolcreaterole from pg_roles where rolname = current_user") -%}
    {%- set exists = run_query("select rolcanlogin from pg_roles where rolname = '" ~ role ~ "'") -%}
    {#- The password is set once (when the role cannot log in yet) or on request (var bi_password_reset),
        so it appears in as few statements as possible. -#}
    {%- set set_password = password and can.columns[0].values()[0]
        and (exists | length == 0 or not exists.columns[0].values()[0] or var('bi_password_reset', false)) -%}
    {%- if exists | length == 0 and not can.columns[0].values()[0] -%}
        {{ log("BI role " ~ role ~ " is missing and " ~ target.user
            ~ " cannot create roles: ask an administrator", info=true) }}
        {{ return('') }}
    {%- endif -%}
    {%- set sql -%}
    do $bi$
    begin
        if not exists (select from pg_roles where rolname = '{{ role }}') then
            create role {{ role }} nologin nosuperuser nocreatedb nocreaterole noinherit;
        end if;
    exception when duplicate_object then null;
    end
    $bi$;
    {%- if set_password %}
    alter role {{ role }} with login password '{{ password | replace("'", "''") }}';
    {%- endif %}
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
    {%- set role = bi_role_name() -%}
    {%- set exists = run_query("select 1 from pg_roles where rolname = '" ~ role ~ "'") -%}
    {%- if exists | length == 0 -%}{{ return('') }}{%- endif -%}
    {%- do run_query("grant usage on schema marts to " ~ role
        ~ "; grant select on all tables in schema marts to " ~ role) -%}
    {{ return('') }}
{%- endmacro %}
