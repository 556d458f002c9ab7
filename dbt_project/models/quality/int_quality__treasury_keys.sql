{{ config(materialized='ephemeral') }}
-- Treasury figures on the reconciliation key, in the months this run evaluates, with the file name for
-- lineage.
with treasury as (
    select * from {{ ref('int_treasury_figures__by_key') }}
    where {{ findings_filter('period') }}
),

files as (
    select file_id, file_name from {{ ref('stg_audit__files') }}
)

select treasury.*, files.file_name as source_file
from treasury
left join files using (file_id)
