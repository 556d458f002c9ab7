{{ config(materialized='ephemeral') }}
-- NTP-A04 one_sided_line: a key has a non-zero allocation or cumulative disbursement in one source and
-- nothing (no line, or only zeros) in the other. Plan assigned is not a Treasury figure, so it does not
-- count. Only province-months with both sources (otherwise NTP-C01 alone fires).
with one_sided as (
    select
        *,
        case when province_has_amount then 'province' else 'treasury' end as subject
    from {{ ref('int_quality__reconciliation') }}
    where province_has_amount <> treasury_has_amount
)

select
    'NTP-A04'::text as rule_id,
    subject,
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    'allocated'::text as measure,
    coalesce(province_allocated_vnd, 0) as province_value_vnd,
    coalesce(treasury_allocated_vnd, 0) as treasury_value_vnd,
    case when subject = 'province' then coalesce(treasury_allocated_vnd, 0)
        else coalesce(province_allocated_vnd, 0)
    end as expected_vnd,
    coalesce(province_allocated_vnd, 0) - coalesce(treasury_allocated_vnd, 0) as delta_vnd,
    case when subject = 'province' then source_file else treasury_source_file end as source_file,
    case when subject = 'province' then source_sheet end as source_sheet,
    case when subject = 'province' then source_row else treasury_source_line end as source_row,
    subject || ' only: disbursed ' || coalesce(province_disbursed_cumulative_vnd, 0)::bigint || ' / '
    || coalesce(treasury_disbursed_cumulative_vnd, 0)::bigint as detail
from one_sided
