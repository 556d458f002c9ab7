{{ config(materialized='ephemeral') }}
-- NTP-A02 disbursement_mismatch: province `Lũy kế giải ngân từ đầu năm` ≠ Treasury Σ luy_ke_thanh_toan on
-- the reconciliation key, beyond tolerance. Only keys with an amount in both sources (A04 covers one-sided lines).
with reconciliation as (
    select * from {{ ref('int_quality__reconciliation') }}
    where province_has_amount and treasury_has_amount
)

select
    'NTP-A02'::text as rule_id,
    'province'::text as subject,
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    'disbursed_cumulative'::text as measure,
    coalesce(province_disbursed_cumulative_vnd, 0) as province_value_vnd,
    coalesce(treasury_disbursed_cumulative_vnd, 0) as treasury_value_vnd,
    coalesce(treasury_disbursed_cumulative_vnd, 0) as expected_vnd,
    coalesce(province_disbursed_cumulative_vnd, 0) - coalesce(treasury_disbursed_cumulative_vnd, 0) as delta_vnd,
    source_file,
    source_sheet,
    source_row,
    null::text as detail
from reconciliation
where abs(coalesce(province_disbursed_cumulative_vnd, 0) - coalesce(treasury_disbursed_cumulative_vnd, 0))
    > {{ rule_tolerance('NTP-A02', 'province_disbursed_cumulative_vnd', 'treasury_disbursed_cumulative_vnd') }}
