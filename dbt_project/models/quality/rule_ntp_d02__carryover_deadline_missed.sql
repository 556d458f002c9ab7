{{ config(materialized='ephemeral') }}
-- NTP-D02 carryover_deadline_missed: capital of plan year Y carried over (Treasury lines with nam_kh = Y <
-- report year: du_toan_giao is the capital extended into the report year, luy_ke_thanh_toan what was paid
-- of it) not fully disbursed, beyond tolerance, in a report month ending after Y's deadline (ref_deadlines,
-- kind `carryover_disbursement`). The province reports carried-over capital as one block, so the per-year
-- detail comes from the Treasury. One finding per line and plan year (`subject` = nam_kh).
with by_plan_year as (
    select by_plan_year.*, files.file_name as source_file
    from {{ ref('int_treasury_figures__by_plan_year') }} as by_plan_year
    left join {{ ref('stg_audit__files') }} as files using (file_id)
    where by_plan_year.plan_block = 'carryover'
        and {{ findings_filter('by_plan_year.period') }}
),

deadlines as (
    select plan_year, deadline_date from {{ ref('int_quality__deadlines') }}
    where deadline_kind = 'carryover_disbursement'
)

select
    'NTP-D02'::text as rule_id,
    'nam_kh ' || by_plan_year.plan_year as subject,
    by_plan_year.period,
    by_plan_year.province_code,
    by_plan_year.component_key,
    by_plan_year.fund_source,
    by_plan_year.capital_type,
    'carryover'::text as plan_block,
    'disbursed_cumulative'::text as measure,
    null::numeric as province_value_vnd,
    by_plan_year.disbursed_cumulative_vnd as treasury_value_vnd,
    by_plan_year.allocated_vnd as expected_vnd,
    by_plan_year.disbursed_cumulative_vnd - by_plan_year.allocated_vnd as delta_vnd,
    by_plan_year.source_file,
    null::text as source_sheet,
    by_plan_year.source_line as source_row,
    'nam_kh ' || by_plan_year.plan_year || ', deadline ' || to_char(deadlines.deadline_date, 'DD/MM/YYYY')
        as detail
from by_plan_year
inner join deadlines using (plan_year)
where (by_plan_year.period + interval '1 month' - interval '1 day')::date > deadlines.deadline_date
    and by_plan_year.disbursed_cumulative_vnd < by_plan_year.allocated_vnd
    - {{ rule_tolerance('NTP-D02', 'by_plan_year.disbursed_cumulative_vnd', 'by_plan_year.allocated_vnd') }}
