{{ config(materialized='ephemeral') }}
-- NTP-I04 rate_mismatch: the reported `Tỷ lệ giải ngân (%)` of a line differs from the line's current-year
-- (NSTW + NSĐP) disbursed ÷ plan assigned × 100 by more than the catalogue's tolerance_pct, read here as
-- percentage points (0.1). A rate written on a line without a plan fails too. The figures of
-- this rule are percentages, not VND.
with cells as (
    select cells.*, files.file_name
    from {{ ref('stg_province__report_cells') }} as cells
    inner join {{ ref('stg_audit__files') }} as files using (file_id)
    where files.kind = 'province_workbook' and files.status = 'loaded'
        and {{ findings_filter('files.period') }}
        and {{ findings_filter('cells.period') }}  -- the same months, as literals: partitions pruned
),

reported_rates as (
    select
        file_id, file_name, period, province_code, capital_type, component_key, source_sheet,
        source_row, value as reported_pct
    from cells
    where measure = 'disbursement_rate_pct'
),

line_figures as (
    select
        file_id, capital_type, component_key,
        sum(value) filter (where measure = 'plan_assigned') as plan_vnd,
        sum(value) filter (where measure = 'disbursed_cumulative') as disbursed_vnd
    from cells
    where plan_block = 'current' and fund_source in ('NSTW', 'NSDP')
    group by 1, 2, 3
),

computed as (
    select
        reported_rates.*,
        round(coalesce(line_figures.disbursed_vnd, 0) / nullif(line_figures.plan_vnd, 0) * 100, 2)
            as computed_pct
    from reported_rates
    left join line_figures using (file_id, capital_type, component_key)
)

select
    'NTP-I04'::text as rule_id,
    'province'::text as subject,
    period,
    province_code,
    component_key,
    'TOTAL'::text as fund_source,
    capital_type,
    'current'::text as plan_block,
    'disbursement_rate_pct'::text as measure,
    reported_pct as province_value_vnd,
    null::numeric as treasury_value_vnd,
    computed_pct as expected_vnd,
    reported_pct - computed_pct as delta_vnd,
    file_name as source_file,
    source_sheet,
    source_row,
    reported_pct || ' % ≠ ' || coalesce(computed_pct || ' %', 'no plan') as detail
from computed
where computed_pct is null
    or abs(reported_pct - computed_pct)
    > (
        select catalogue.tolerance_pct from {{ ref('ref_rule_catalogue') }} as catalogue
        where catalogue.rule_id = 'NTP-I04'
    )::numeric
