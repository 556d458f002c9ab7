-- The current version of every delivered report: loaded files only (superseded and quarantined ones stay in
-- the archive), and if two loaded files ever claim the same kind × month × province, the later version wins
-- (version, then footer report date, then arrival time, then manifest order).
with files as (
    select * from {{ ref('stg_audit__files') }}
    where status = 'loaded' and period is not null
),

ranked as (
    select
        files.*,
        row_number() over (
            partition by files.kind, files.period, files.province_code
            order by files.version desc, files.report_date desc nulls last, files.received_at desc, files.file_id desc
        ) as version_rank
    from files
)

select
    file_id,
    kind,
    period,
    province_code,
    file_name,
    version,
    report_date,
    received_at,
    unit,
    unit_factor_vnd,
    run_period
from ranked
where version_rank = 1
