-- The manifest of delivered files, with the workbook unit as a VND factor.
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
    run_period,
    unit,
    {{ unit_factor_vnd('unit') }} as unit_factor_vnd,
    replaces_note,
    ingested_at,
    size_bytes
from source
