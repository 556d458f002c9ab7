-- Treasury figures on the reconciliation key with the file name and first line for lineage.
with treasury as (
    select * from {{ ref('int_treasury_figures__by_key') }}
),

files as (
    select file_id, file_name from {{ ref('stg_audit__files') }}
)

select treasury.*, files.file_name as source_file
from treasury
left join files using (file_id)
