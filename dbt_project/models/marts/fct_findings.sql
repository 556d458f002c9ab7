{{ config(
    materialized='incremental',
    incremental_strategy='replace_findings_periods',
    on_schema_change='append_new_columns',
    post_hook="{{ update_findings_first_seen() }}",
    indexes=[
        {'columns': ['period', 'province_code']},
        {'columns': ['finding_key', 'period']},
    ],
) }}
-- Quality findings of every evaluated month: the failing rows of every rule in the catalogue, with their
-- status across months (new | persisting | explained | resolved) and the month they were first seen. A finding's
-- identity is its rule, subject and key (and the file, for file-level findings). Incremental by report
-- month: a run with var `period` re-evaluates the months of macros/rule_models.sql `findings_periods`
-- (the rules read only those months) and compares each with the previous evaluated month, read from this
-- table when it was not re-evaluated; each re-evaluated month is deleted and inserted again (strategy
-- `replace_findings_periods`, macros/rule_findings.sql: the delete runs after this query), so re-running
-- a month never duplicates a finding. Without `period` every month is rebuilt.
--
-- Revisions (R4): this query still sees the previous build of the re-evaluated months. In a run with
-- `period`, an open finding of that build which the month no longer has (a corrected or late file for the
-- month fixed it) is kept as a `resolved` row of that month, with its old values and
-- `resolved_by = 'revision'`; such rows are carried over by every later in-place build of the month while
-- the finding stays absent. A build from scratch (--full-refresh, a new warehouse) cannot reproduce them:
-- raw keeps every version, but not which version each earlier build saw.
--
-- Responses: an open finding (new or persisting) that its province answered in a returned findings workbook
-- of this month or an earlier one (stg_audit__finding_responses) is `explained`, with the latest answer
-- and its file and row; a resolved finding stays resolved. The rows of the months form the history
-- (new → explained → resolved). Names: the province at the report's era, the component in VI and EN.
{%- set previous_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list
    if is_incremental() else [] %}
with rule_rows as (
    {% for rule_model in rule_models() %}
        select * from {{ ref(rule_model) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

catalogue as (
    select * from {{ ref('ref_rule_catalogue') }}
),

-- The months the pipeline has evaluated: a finding absent from the next evaluated month is resolved.
month_sequence as (
    select period, lag(period) over (order by period) as previous_period
    from {{ ref('int_quality__evaluated_months') }}
),

open_now as (
    select
        md5(concat_ws(
            '|', rule_rows.rule_id, rule_rows.subject, rule_rows.province_code,
            rule_rows.component_key, rule_rows.fund_source, rule_rows.capital_type, rule_rows.plan_block,
            rule_rows.measure, case when rule_rows.component_key is null then rule_rows.source_file end
        ))
            as finding_key,
        rule_rows.*
    from rule_rows
    inner join month_sequence using (period)
),

-- Open findings of the previous evaluated months that this run does not re-evaluate, as stored.
earlier_open as (
    {% if is_incremental() %}
        select
            finding_key, rule_id, subject, period, province_code, component_key, fund_source, capital_type,
            plan_block, measure, province_value_vnd, treasury_value_vnd, expected_vnd, delta_vnd, source_file,
            source_sheet, source_row, detail, first_seen_period
        from {{ this }}
        where status <> 'resolved'
            and period in (
                select month_sequence.previous_period from month_sequence
                where {{ findings_filter('month_sequence.period') }}
            )
            and not {{ findings_filter('period') }}
    {% else %}
        select
            finding_key, rule_id, subject, period, province_code, component_key, fund_source, capital_type,
            plan_block, measure, province_value_vnd, treasury_value_vnd, expected_vnd, delta_vnd, source_file,
            source_sheet, source_row, detail, null::date as first_seen_period
        from open_now
        where false
    {% endif %}
),

presence as (
    select finding_key, period, period as known_first_seen from open_now
    union all
    select finding_key, period, first_seen_period from earlier_open
),

-- a join, not a correlated exists: PostgreSQL cannot turn the latter into a semi-join here
with_previous as (
    select
        presence.*,
        earlier.finding_key is not null as seen_last_month
    from presence
    inner join month_sequence using (period)
    left join presence as earlier
        on presence.finding_key = earlier.finding_key
            and month_sequence.previous_period = earlier.period
),

streaks as (
    select
        with_previous.*,
        sum(case when with_previous.seen_last_month then 0 else 1 end)
            over (partition by with_previous.finding_key order by with_previous.period) as streak
    from with_previous
),

streak_starts as (
    select
        finding_key,
        period,
        seen_last_month,
        min(known_first_seen) over (partition by finding_key, streak) as first_seen_period
    from streaks
),

open_findings as (
    select
        open_now.finding_key, open_now.rule_id, open_now.subject, open_now.period,
        open_now.province_code, open_now.component_key, open_now.fund_source, open_now.capital_type,
        open_now.plan_block, open_now.measure, open_now.province_value_vnd, open_now.treasury_value_vnd,
        open_now.expected_vnd, open_now.delta_vnd, open_now.source_file, open_now.source_sheet,
        open_now.source_row, open_now.detail,
        case when streak_starts.seen_last_month then 'persisting' else 'new' end as status,
        streak_starts.first_seen_period
    from open_now
    inner join streak_starts using (finding_key, period)
),

previous_open as (
    select
        finding_key, rule_id, subject, period, province_code, component_key, fund_source, capital_type,
        plan_block, measure, province_value_vnd, treasury_value_vnd, expected_vnd, delta_vnd, source_file,
        source_sheet, source_row, detail, first_seen_period
    from open_findings
    union all
    select * from earlier_open
),

-- A finding open in the previous evaluated month and absent from this one: resolved this month.
resolved_findings as (
    select
        previous_open.finding_key, previous_open.rule_id, previous_open.subject,
        month_sequence.period,
        previous_open.province_code, previous_open.component_key, previous_open.fund_source,
        previous_open.capital_type, previous_open.plan_block, previous_open.measure,
        previous_open.province_value_vnd, previous_open.treasury_value_vnd, previous_open.expected_vnd,
        previous_open.delta_vnd, previous_open.source_file, previous_open.source_sheet,
        previous_open.source_row, previous_open.detail,
        'resolved'::text as status, previous_open.first_seen_period
    from previous_open
    inner join month_sequence on previous_open.period = month_sequence.previous_period
    where {{ findings_filter('month_sequence.period') }}
        and not exists (
            select 1 from open_now
            where open_now.finding_key = previous_open.finding_key and open_now.period = month_sequence.period
        )
),

-- The previous build of the re-evaluated months: its open findings (in a run with `period`) and the
-- findings an earlier revision resolved (kept by every in-place build).
previous_build as (
    {% if is_incremental() %}
        select
            finding_key, rule_id, subject, period, province_code, component_key, fund_source, capital_type,
            plan_block, measure, province_value_vnd, treasury_value_vnd, expected_vnd, delta_vnd, source_file,
            source_sheet, source_row, detail, first_seen_period
        from {{ this }}
        where {{ findings_filter('period') }}
            and (
                {%- if 'resolved_by' in previous_columns %} resolved_by = 'revision'
                {%- else %} false
                {%- endif -%}
                {%- if ntp_period_var() is not none %} or status <> 'resolved'{% endif %}
            )
    {% else %}
        select * from earlier_open
        where false
    {% endif %}
),

-- Absent from the month now, and not resolved by the month sequence either: the revision resolved it.
revision_resolved as (
    select
        previous_build.finding_key, previous_build.rule_id, previous_build.subject, previous_build.period,
        previous_build.province_code, previous_build.component_key, previous_build.fund_source,
        previous_build.capital_type, previous_build.plan_block, previous_build.measure,
        previous_build.province_value_vnd, previous_build.treasury_value_vnd, previous_build.expected_vnd,
        previous_build.delta_vnd, previous_build.source_file, previous_build.source_sheet,
        previous_build.source_row, previous_build.detail,
        'resolved'::text as status, previous_build.first_seen_period
    from previous_build
    inner join month_sequence using (period)
    where not exists (
            select 1 from open_now
            where open_now.finding_key = previous_build.finding_key and open_now.period = previous_build.period
        )
        and not exists (
            select 1 from resolved_findings
            where resolved_findings.finding_key = previous_build.finding_key
                and resolved_findings.period = previous_build.period
        )
),

all_findings as (
    select open_findings.*, null::text as resolved_by from open_findings
    union all
    select resolved_findings.*, 'next_month'::text as resolved_by from resolved_findings
    union all
    select revision_resolved.*, 'revision'::text as resolved_by from revision_resolved
),

responses as (
    select * from {{ ref('stg_audit__finding_responses') }}
),

-- the latest answer given to the finding for this month or an earlier one
latest_response as (
    select distinct on (all_findings.finding_key, all_findings.period)
        all_findings.finding_key,
        all_findings.period,
        responses.explanation,
        responses.planned_action,
        responses.source_file as response_file,
        responses.source_row as response_row
    from all_findings
    inner join responses
        on all_findings.finding_key = responses.finding_key
            and all_findings.period >= responses.period
    order by
        all_findings.finding_key asc, all_findings.period asc, responses.received_at desc, responses.file_id desc,
        responses.source_row desc
),

provinces as (
    select province_code, province_name, valid_from, valid_to from {{ ref('dim_province') }}
),

components as (
    select component_key, name_vi, name_en from {{ ref('dim_component') }}
)

select
    all_findings.finding_key,
    all_findings.rule_id,
    catalogue.name as rule_name,
    catalogue.severity,
    catalogue.category,
    all_findings.subject,
    all_findings.period,
    all_findings.province_code,
    all_findings.component_key,
    all_findings.fund_source,
    all_findings.capital_type,
    all_findings.plan_block,
    all_findings.measure,
    all_findings.province_value_vnd,
    all_findings.treasury_value_vnd,
    all_findings.expected_vnd,
    all_findings.delta_vnd,
    all_findings.source_file,
    all_findings.source_sheet,
    all_findings.source_row,
    case
        when all_findings.status <> 'resolved' and latest_response.finding_key is not null then 'explained'
        else all_findings.status
    end as status,
    all_findings.first_seen_period,
    all_findings.detail,
    catalogue.message_vi || coalesce(': ' || all_findings.detail, '') as message_vi,
    catalogue.message_en || coalesce(': ' || all_findings.detail, '') as message_en,
    all_findings.resolved_by,
    provinces.province_name,
    components.name_vi as component_name_vi,
    components.name_en as component_name_en,
    latest_response.explanation,
    latest_response.planned_action,
    latest_response.response_file,
    latest_response.response_row
from all_findings
inner join catalogue using (rule_id)
left join latest_response using (finding_key, period)
left join provinces
    on all_findings.province_code = provinces.province_code
        and all_findings.period >= provinces.valid_from
        and (provinces.valid_to is null or all_findings.period <= provinces.valid_to)
left join components using (component_key)
-- Written in the order of the index on (period, province_code): a month's findings then sit together on disk
-- however the table was built (a full build's plan otherwise emits them by finding_key, one row per page of a
-- month), so reading the latest month — the findings dashboard, the alert — reads that month's pages only.
order by all_findings.period, all_findings.province_code
