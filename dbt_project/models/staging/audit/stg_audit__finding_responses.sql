-- A province's answers to its findings, from returned findings workbooks that were loaded (a quarantined
-- workbook contributes nothing), with lineage to the delivered file and row; only the rows taken (rows with
-- an unknown or closed finding id stay in the source, reported back by the alert).
with source as (
    select * from {{ source('audit', 'finding_responses') }}
),

files as (
    select file_id, original_name, status from {{ source('audit', 'files') }}
)

select
    source.finding_key,
    source.period,
    source.province_code,
    source.explanation,
    source.planned_action,
    source.note,
    source.received_at,
    source.file_id,
    files.original_name as source_file,
    source.source_row
from source
inner join files using (file_id)
where files.status = 'loaded' and source.outcome = 'accepted'
