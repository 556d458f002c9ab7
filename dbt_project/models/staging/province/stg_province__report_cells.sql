-- Provincial workbook figures, renamed to the warehouse vocabulary. One row per cell, amounts in VND.
with source as (
    select * from {{ source('raw', 'province_report_cells') }}
)

select
    file_id,
    sheet as source_sheet,
    source_row,
    source_column,
    period,
    province_code,
    capital_type,
    stt,
    component_key,
    component_label,
    plan_block,
    measure,
    fund_source,
    value,
    value_as_reported
from source
