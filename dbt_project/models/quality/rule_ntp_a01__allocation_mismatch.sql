{{ config(materialized='ephemeral') }}
-- NTP-A01 allocation_mismatch: province `Đã phân bổ chi tiết` ≠ Treasury Σ du_toan_giao on the
-- reconciliation key, beyond tolerance. Only keys with an amount in both sources (A04 covers one-sided lines).
with reconciliation as (
    select * from {{ ref('int_quality__reconciliation') }}
    where province_has_amount and treasury_has_amount
)

select
    'NTP-A01'::text as rule_id,
    'province'::text as subject,
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
