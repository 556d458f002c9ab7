-- Treasury (TABMIS) extract lines in the warehouse vocabulary.
with source as (
    select * from {{ source('raw', 'treasury_lines') }}
)

select
    file_id,
    source_line,
    period,
    ma_kbnn as treasury_office_code,
    ma_tinh as province_code,
    ma_ctmt as treasury_code,
    nguon_von as fund_source,
    loai_von as capital_type,
    nam_kh as plan_year,
    ma_dvqhns as budget_unit_code,
    ten_dvqhns as budget_unit_name,
    du_toan_giao::numeric as allocated_vnd,
    thanh_toan_trong_ky::numeric as paid_in_month_vnd,
    luy_ke_thanh_toan::numeric as paid_cumulative_vnd
from source
