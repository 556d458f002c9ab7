{{ config(materialized='ephemeral') }}
-- Every province-month that should be reported (each province existing in the month: 63 before
-- 1 July 2025, 34 from then) of the evaluated months this run re-evaluates, with which sources were
-- delivered and loaded. A quarantined or superseded file does not count as delivered; a national Treasury
-- extract covers the provinces it has lines for.
with files as (
    select * from {{ ref('stg_audit__files') }}
),

evaluated_months as (
    select period from {{ ref('int_quality__evaluated_months') }}
    where {{ findings_filter('period') }}
),

provinces as (
    select province_code, valid_from, coalesce(valid_to, date '9999-12-31') as valid_to
    from {{ ref('dim_province') }}
),

expected as (
    select evaluated_months.period, provinces.province_code
    from evaluated_months
    inner join provinces on evaluated_months.period between provinces.valid_from and provinces.valid_to
),

workbooks as (
    select period, province_code, min(file_name) as source_file
    from files
    where kind = 'province_workbook' and status = 'loaded' and {{ findings_filter('period') }}
    group by 1, 2
),

treasury_by_file as (
    select period, province_code
    from files
    where kind = 'treasury_extract' and status = 'loaded' and province_code is not null
        and {{ findings_filter('period') }}
),

treasury_by_line as (
    select distinct period, province_code
    from {{ ref('int_treasury_figures__by_plan_year') }}
    where {{ findings_filter('period') }}
),

treasury as (
    select period, province_code from treasury_by_file
    union
    select period, province_code from treasury_by_line
),

quarantined as (
    select
        {{ file_evaluated_period() }} as period, province_code, kind,
        string_agg(file_name, ', ' order by file_name) as quarantined_files
    from files
    where status = 'quarantined' and province_code is not null
    group by 1, 2, 3
)

select
    expected.period,
    expected.province_code,
    workbooks.period is not null as has_workbook,
    treasury.period is not null as has_treasury,
    workbooks.period is not null and treasury.period is not null as has_both_sources,
    workbooks.source_file as workbook_file,
    quarantined_workbooks.quarantined_files as quarantined_workbooks,
    quarantined_treasury.quarantined_files as quarantined_treasury_files
from expected
left join workbooks using (period, province_code)
left join treasury using (period, province_code)
left join quarantined as quarantined_workbooks
    on expected.period = quarantined_workbooks.period
        and expected.province_code = quarantined_workbooks.province_code
        and quarantined_workbooks.kind = 'province_workbook'
left join quarantined as quarantined_treasury
    on expected.period = quarantined_treasury.period
        and expected.province_code = quarantined_treasury.province_code
        and quarantined_treasury.kind = 'treasury_extract'
