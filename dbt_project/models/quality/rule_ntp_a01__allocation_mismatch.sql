-- NTP-A01 allocation_mismatch: province `Đã phân bổ chi tiết` ≠ Treasury Σ du_toan_giao on the
-- reconciliation key, beyond tolerance. Only keys present in both sources (A04 covers one-sided lines).
with reconciliation as (
    select * from {{ ref('fct_reconciliation') }}
    where in_province_report and in_treasury_extract
)

select
    'NTP-A01'::text as rule_id,
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    'allocated'::text as measure,
    coalesce(province_allocated_vnd, 0) as province_value_vnd,
    coalesce(treasury_allocated_vnd, 0) as treasury_value_vnd,
    coalesce(treasury_allocated_vnd, 0) as expected_vnd,
    coalesce(province_allocated_vnd, 0) - coalesce(treasury_allocated_vnd, 0) as delta_vnd,
    source_file,
    source_sheet,
    source_row,
    null::text as detail
from reconciliation
where abs(coalesce(province_allocated_vnd, 0) - coalesce(treasury_allocated_vnd, 0))
    > {{ rule_tolerance('NTP-A01', 'province_allocated_vnd', 'treasury_allocated_vnd') }}
