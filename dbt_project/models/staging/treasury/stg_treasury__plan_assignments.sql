-- Annual plan assignment lines (VND).
with source as (
    select * from {{ source('raw', 'plan_assignments') }}
)

select
    file_id,
    source_line,
    nam_kh as plan_year,
    ma_tinh as province_code,
    ma_ctmt as treasury_code,
    nguon_von as fund_source,
    loai_von as capital_type,
    ke_hoach_giao::numeric as plan_assigned_vnd
from source
