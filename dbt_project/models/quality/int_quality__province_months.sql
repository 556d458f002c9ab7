-- Every province-month that should be reported (each province existing in the month: 63 before
-- 1 July 2025, 34 from then) of every evaluated month, with which sources were delivered and loaded.
-- A quarantined file does not count as delivered; a national Treasury file covers the provinces it has
-- lines for.
with files as (
    select * from {{ ref('stg_audit__files') }}
),

evaluated_months as (
    select distinct coalesce(period, run_period) as period
    from files
    where coalesce(period, run_period) is not null
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
    where kind = 'province_workbook' and status = 'loaded'
    group by period, province_code
),

treasury_by_file as (
    select period, province_code
    from files
    where kind = 'treasury_extract' and status = 'loaded' and province_code is not null
),

treasury_by_line as (
    select distinct lines.period, lines.province_code
    from {{ ref('stg_treasury__lines') }} as lines
    inner join files using (file_id)
    where files.kind = 'treasury_extract' and files.status = 'loaded'
),

treasury as (
    select period, province_code from treasury_by_file
    union
    select period, province_code from treasury_by_line
),

quarantined as (
    select coalesce(period, run_period) as period, province_code, kind,
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
    on quarantined_workbooks.period = expected.period
    and quarantined_workbooks.province_code = expected.province_code
    and quarantined_workbooks.kind = 'province_workbook'
left join quarantined as quarantined_treasury
    on quarantined_treasury.period = expected.period
    and quarantined_treasury.province_code = expected.province_code
    and quarantined_treasury.kind = 'treasury_extract'
