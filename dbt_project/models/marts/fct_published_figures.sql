{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook="{{ delete_rebuilt_periods() }}",
    indexes=[
        {'columns': ['period', 'province_code']},
        {'columns': ['province_code_2025', 'period']},
    ],
) }}
-- Số liệu công bố: the figure the warehouse publishes per key (month × province × leaf component × fund
-- source × capital type × plan block), from its book of record, with the statuses that hold on the key
-- (docs/warehouse.md, "Books of record"). Books of record: the annual plan file for the plan (current block,
-- missing line = 0) when it covers the province-year, else the province's report; the Treasury extract for
-- allocation and disbursement (missing line = 0) when loaded for the province-month, else the province's
-- report. A figure flagged by an open finding of a rule whose catalogue row has `makes_figure_suspect` is
-- never published; the next source is, or nothing. Keys: every leaf line either source reported, and every
-- plan-file line of a province expected that month (in a month with reports). Parent lines are not published
-- figures of their own: a total is the sum of its published leaves (a parent the province wrote contains its
-- children as written, suspect ones included). Incremental by report month.
with facts as (
    select * from {{ ref('fct_ntp_monthly') }}
    where {{ period_filter('period') }}
),

reported as (
    select
        period, province_code, component_key, fund_source, capital_type, plan_block,
        bool_or(reporting_source = 'province') as in_province_report,
        bool_or(reporting_source = 'treasury') as in_treasury_extract,
        sum(plan_assigned_vnd) filter (where reporting_source = 'province') as province_plan_assigned_vnd,
        sum(allocated_vnd) filter (where reporting_source = 'province') as province_allocated_vnd,
        sum(allocated_vnd) filter (where reporting_source = 'treasury') as treasury_allocated_vnd,
        sum(disbursed_cumulative_vnd) filter (where reporting_source = 'province')
            as province_disbursed_cumulative_vnd,
        sum(disbursed_cumulative_vnd) filter (where reporting_source = 'treasury')
            as treasury_disbursed_cumulative_vnd,
        sum(disbursed_in_month_vnd) filter (where reporting_source = 'province') as province_disbursed_in_month_vnd,
        sum(disbursed_in_month_vnd) filter (where reporting_source = 'treasury') as treasury_disbursed_in_month_vnd
    from facts
    group by 1, 2, 3, 4, 5, 6
),

province_months as (
    select period, province_code, has_workbook, has_treasury
    from {{ ref('int_quality__province_months') }}
    where {{ period_filter('period') }}
),

plan_file as (
    select period, province_code, component_key, fund_source, capital_type, plan_block, plan_assigned_vnd
    from {{ ref('int_quality__plan_file') }}
    where {{ period_filter('period') }}
),

-- the province-years the plan file covers (a line it does not list is a plan of 0 there)
plan_file_coverage as (
    select distinct period, province_code from plan_file
),

-- months with a report of either kind (a month only the plan file belongs to publishes nothing)
reporting_months as (
    select period from province_months
    group by 1
    having bool_or(has_workbook or has_treasury)
),

keys as (
    select period, province_code, component_key, fund_source, capital_type, plan_block from reported
    union
    select
        plan_file.period, plan_file.province_code, plan_file.component_key, plan_file.fund_source,
        plan_file.capital_type, plan_file.plan_block
    from plan_file
    inner join province_months using (period, province_code)
    inner join reporting_months using (period)
),

catalogue as (
    select rule_id, makes_figure_suspect from {{ ref('ref_rule_catalogue') }}
),

open_findings as (
    select findings.*, coalesce(catalogue.makes_figure_suspect, false) as makes_figure_suspect
    from {{ ref('fct_findings') }} as findings
    inner join catalogue using (rule_id)
    where {{ period_filter('findings.period') }}
        and findings.status <> 'resolved'
        and findings.component_key is not null
),

-- What the open findings say about each key. A rule flags the figure it doubts: `measure` names it, and
-- `subject` the source (treasury… = the Treasury's figure, anything else the province's).
key_findings as (
    select
        open_findings.period, open_findings.province_code, open_findings.component_key,
        open_findings.fund_source, open_findings.capital_type, open_findings.plan_block,
        bool_or(
            open_findings.makes_figure_suspect and open_findings.subject not like 'treasury%'
            and open_findings.measure = 'plan_assigned'
        ) as province_plan_suspect,
        bool_or(
            open_findings.makes_figure_suspect and open_findings.subject not like 'treasury%'
            and open_findings.measure = 'allocated'
        ) as province_allocated_suspect,
        bool_or(
            open_findings.makes_figure_suspect and open_findings.subject not like 'treasury%'
            and open_findings.measure = 'disbursed_cumulative'
        ) as province_disbursed_suspect,
        bool_or(
            open_findings.makes_figure_suspect and open_findings.subject like 'treasury%'
            and open_findings.measure = 'allocated'
        ) as treasury_allocated_suspect,
        bool_or(
            open_findings.makes_figure_suspect and open_findings.subject like 'treasury%'
            and open_findings.measure = 'disbursed_cumulative'
        ) as treasury_disbursed_suspect,
        bool_or(open_findings.makes_figure_suspect) as is_suspect,
        bool_or(
            not open_findings.makes_figure_suspect
            and (open_findings.severity = 'error' or open_findings.category = 'reconciliation')
        ) as is_disputed,
        -- an open finding the province answered in a returned findings workbook (fct_findings: explained)
        bool_or(open_findings.status = 'explained') as is_explained,
        string_agg(distinct open_findings.rule_id, ', ' order by open_findings.rule_id) as open_rules
    from open_findings
    group by 1, 2, 3, 4, 5, 6
),

successors as (
    select * from {{ ref('int_provinces__successors') }}
),

leaves as (
    select * from {{ ref('int_components__by_capital_type') }}
),

joined as (
    select
        keys.*,
        coalesce(province_months.has_workbook, reported.in_province_report, false) as province_report_loaded,
        coalesce(province_months.has_treasury, reported.in_treasury_extract, false) as treasury_extract_loaded,
        plan_file_coverage.period is not null as plan_file_loaded,
        coalesce(reported.in_province_report, false) as in_province_report,
        coalesce(reported.in_treasury_extract, false) as in_treasury_extract,
        coalesce(leaves.is_leaf, false) as is_leaf,
        leaves.program_key,
        successors.province_key,
        successors.province_code_2025,
        reported.province_plan_assigned_vnd,
        plan_file.plan_assigned_vnd as plan_file_plan_assigned_vnd,
        reported.province_allocated_vnd,
        reported.treasury_allocated_vnd,
        reported.province_disbursed_cumulative_vnd,
        reported.treasury_disbursed_cumulative_vnd,
        reported.province_disbursed_in_month_vnd,
        reported.treasury_disbursed_in_month_vnd,
        coalesce(key_findings.province_plan_suspect, false) as province_plan_suspect,
        coalesce(key_findings.province_allocated_suspect, false) as province_allocated_suspect,
        coalesce(key_findings.province_disbursed_suspect, false) as province_disbursed_suspect,
        coalesce(key_findings.treasury_allocated_suspect, false) as treasury_allocated_suspect,
        coalesce(key_findings.treasury_disbursed_suspect, false) as treasury_disbursed_suspect,
        coalesce(key_findings.is_suspect, false) as is_suspect,
        coalesce(key_findings.is_disputed, false) as is_disputed,
        coalesce(key_findings.is_explained, false) as is_explained,
        key_findings.open_rules
    from keys
    left join reported using (period, province_code, component_key, fund_source, capital_type, plan_block)
    left join plan_file using (period, province_code, component_key, fund_source, capital_type, plan_block)
    left join plan_file_coverage using (period, province_code)
    left join province_months using (period, province_code)
    left join key_findings using (period, province_code, component_key, fund_source, capital_type, plan_block)
    left join successors
        on keys.province_code = successors.province_code
            and successors.era = case when keys.period >= {{ merger_period() }} then '2025' else '2008' end
    left join leaves
        on keys.component_key = leaves.component_key and keys.capital_type = leaves.capital_type
),

-- Which source each measure is published from: the book of record when it carries the line and its figure
-- is not suspect, else the province's report when loaded and its figure is not suspect, else none.
sources as (
    select
        joined.*,
        case
            when joined.plan_file_loaded and joined.plan_block = 'current' then 'plan_file'
            when joined.province_report_loaded and not joined.province_plan_suspect then 'province'
            else 'none'
        end as published_plan_assigned_source,
        case
            when joined.treasury_extract_loaded and not joined.treasury_allocated_suspect then 'treasury'
            when joined.province_report_loaded and not joined.province_allocated_suspect then 'province'
            else 'none'
        end as published_allocated_source,
        case
            when joined.treasury_extract_loaded and not joined.treasury_disbursed_suspect then 'treasury'
            when joined.province_report_loaded and not joined.province_disbursed_suspect then 'province'
            else 'none'
        end as published_disbursed_source
    from joined
    where joined.is_leaf
),

published as (
    select
        sources.*,
        case sources.published_plan_assigned_source
            when 'plan_file' then coalesce(sources.plan_file_plan_assigned_vnd, 0)
            when 'province' then coalesce(sources.province_plan_assigned_vnd, 0)
        end as published_plan_assigned_vnd,
        case sources.published_allocated_source
            when 'treasury' then coalesce(sources.treasury_allocated_vnd, 0)
            when 'province' then coalesce(sources.province_allocated_vnd, 0)
        end as published_allocated_vnd,
        case sources.published_disbursed_source
            when 'treasury' then coalesce(sources.treasury_disbursed_cumulative_vnd, 0)
            when 'province' then coalesce(sources.province_disbursed_cumulative_vnd, 0)
        end as published_disbursed_cumulative_vnd,
        case sources.published_disbursed_source
            when 'treasury' then coalesce(sources.treasury_disbursed_in_month_vnd, 0)
            when 'province' then sources.province_disbursed_in_month_vnd
        end as published_disbursed_in_month_vnd,
        not(sources.province_report_loaded and sources.treasury_extract_loaded) as is_missing
    from sources
)

select
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    province_key,
    province_code_2025,
    program_key,
    published_plan_assigned_vnd,
    published_allocated_vnd,
    published_disbursed_cumulative_vnd,
    published_disbursed_in_month_vnd,
    published_plan_assigned_source,
    published_allocated_source,
    published_disbursed_source,
    case
        when is_suspect then 'suspect'
        when is_missing then 'missing'
        when is_explained then 'explained'
        when is_disputed then 'disputed'
        else 'agreed'
    end as publication_status,
    not(is_suspect or is_missing or is_disputed) as is_agreed,
    is_disputed,
    is_suspect,
    is_missing,
    is_explained,
    published_plan_assigned_vnd is not null and (
        coalesce(published_allocated_vnd, 0) - published_plan_assigned_vnd
        > {{ rule_tolerance('NTP-I02', 'published_allocated_vnd', 'published_plan_assigned_vnd') }}
        or coalesce(published_disbursed_cumulative_vnd, 0) - published_plan_assigned_vnd
        > {{ rule_tolerance('NTP-I02', 'published_disbursed_cumulative_vnd', 'published_plan_assigned_vnd') }}
    ) as exceeds_plan,
    open_rules,
    province_report_loaded,
    treasury_extract_loaded,
    plan_file_loaded,
    in_province_report,
    in_treasury_extract,
    province_plan_assigned_vnd,
    plan_file_plan_assigned_vnd,
    province_allocated_vnd,
    treasury_allocated_vnd,
    province_disbursed_cumulative_vnd,
    treasury_disbursed_cumulative_vnd,
    province_disbursed_in_month_vnd,
    treasury_disbursed_in_month_vnd,
    province_plan_suspect,
    province_allocated_suspect,
    province_disbursed_suspect,
    treasury_allocated_suspect,
    treasury_disbursed_suspect
from published
