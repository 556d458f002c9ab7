-- Quality findings of every evaluated month: the failing rows of every rule in the catalogue, with
-- their status across months (new | persisting | resolved) and the month they were first seen. A
-- finding's identity is its rule, subject and key (and the file, for file-level findings); the table is
-- rebuilt from the rule queries on every run, so re-running a month never duplicates a finding.
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
evaluated_months as (
    select period from {{ ref('fct_ntp_monthly') }}
    union
    select coalesce(period, run_period) from {{ ref('stg_audit__files') }}
    where coalesce(period, run_period) is not null
),

month_sequence as (
    select period, lead(period) over (order by period) as next_period,
        lag(period) over (order by period) as previous_period
    from evaluated_months
),

keyed as (
    select
        md5(concat_ws('|', rule_id, subject, province_code, component_key, fund_source, capital_type,
            plan_block, measure, case when component_key is null then source_file end)) as finding_key,
        rule_rows.*
    from rule_rows
),

with_previous as (
    select
        keyed.*,
        exists (
            select 1 from keyed as earlier
            where earlier.finding_key = keyed.finding_key and earlier.period = month_sequence.previous_period
        ) as seen_last_month,
        month_sequence.next_period
    from keyed
    inner join month_sequence using (period)
),

streaks as (
    select
        with_previous.*,
        sum(case when seen_last_month then 0 else 1 end)
            over (partition by finding_key order by period) as streak
    from with_previous
),

open_findings as (
    select
        streaks.*,
        case when seen_last_month then 'persisting' else 'new' end as status,
        min(period) over (partition by finding_key, streak) as first_seen_period
    from streaks
),

resolved_findings as (
    select
        open_findings.finding_key, open_findings.rule_id, open_findings.subject,
        open_findings.next_period as period,
        open_findings.province_code, open_findings.component_key, open_findings.fund_source,
        open_findings.capital_type, open_findings.plan_block, open_findings.measure,
        open_findings.province_value_vnd, open_findings.treasury_value_vnd, open_findings.expected_vnd,
        open_findings.delta_vnd, open_findings.source_file, open_findings.source_sheet,
        open_findings.source_row, open_findings.detail,
        'resolved'::text as status, open_findings.first_seen_period
    from open_findings
    where open_findings.next_period is not null
      and not exists (
          select 1 from keyed as later
          where later.finding_key = open_findings.finding_key and later.period = open_findings.next_period
      )
),

all_findings as (
    select
        finding_key, rule_id, subject, period, province_code, component_key, fund_source, capital_type,
        plan_block, measure, province_value_vnd, treasury_value_vnd, expected_vnd, delta_vnd,
        source_file, source_sheet, source_row, detail, status, first_seen_period
    from open_findings
    union all
    select * from resolved_findings
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
    all_findings.status,
    all_findings.first_seen_period,
    all_findings.detail,
    catalogue.message_vi || coalesce(': ' || all_findings.detail, '') as message_vi,
    catalogue.message_en || coalesce(': ' || all_findings.detail, '') as message_en
from all_findings
inner join catalogue using (rule_id)
