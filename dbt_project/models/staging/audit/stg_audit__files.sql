-- The manifest of delivered files.
with source as (
    select * from {{ source('audit', 'files') }}
)

select
    file_id,
    sha256,
    original_name as file_name,
    archive_path,
    kind,
    period,
    province_code,
    report_date,
    received_at,
    status,
    version,
    row_count,
    error_code,
    error_message,
    error_sheet,
    error_row,
    error_column,
    run_period
from source
