{{ config(materialized='ephemeral') }}
-- NTP-T02 unit_scale_suspect: a figure is (var `unit_scale_bands`) 300–3,000× or 3×10⁵–3×10⁶× (either way)
-- another figure it should be close to — a triệu / đồng / tỷ mix-up. Three comparisons, each its own finding
-- (`subject`):
--   * province_vs_treasury: the province's allocation / cumulative disbursement vs the Treasury's, same key;
--   * province_vs_last_month: each province figure (plan, allocation, disbursement) vs its last month;
--   * treasury_vs_last_month: the Treasury's allocation / disbursement vs its last month.
-- Last month is within the same report year; across the July 2025 merger, the sum of the predecessors.
with province as (
    select * from {{ ref('int_quality__province_leaves') }}
),

treasury as (
    select * from {{ ref('int_quality__treasury_keys') }}
),

complete_months as (
    select period, province_code from {{ ref('int_quality__province_months') }}
    where has_both_sources
),

previous_month as (
    select * from {{ ref('int_quality__previous_month') }}
),

province_vs_treasury as (
    select
        'province_vs_treasury'::text as subject, province.period, province.province_code,
        province.component_key, province.fund_source, province.capital_type, province.plan_block,
        measure.name as measure, measure.value_vnd, measure.value_vnd as province_value_vnd,
        measure.basis_vnd as treasury_value_vnd, measure.basis_vnd,
        province.source_file, province.source_sheet, province.source_row
    from province
    inner join complete_months using (period, province_code)
    inner join treasury using (period, province_code, component_key, fund_source, capital_type, plan_block)
    cross join lateral (
        values
        ('allocated', province.allocated_vnd, treasury.allocated_vnd),
        ('disbursed_cumulative', province.disbursed_cumulative_vnd, treasury.disbursed_cumulative_vnd)
    ) as measure (name, value_vnd, basis_vnd)
),

province_vs_last_month as (
    select
        'province_vs_last_month'::text as subject, province.period, province.province_code,
        province.component_key, province.fund_source, province.capital_type, province.plan_block,
        measure.name as measure, measure.value_vnd, measure.value_vnd as province_value_vnd,
        null::numeric as treasury_value_vnd, measure.basis_vnd,
        province.source_file, province.source_sheet, province.source_row
    from province
    inner join previous_month
        on previous_month.subject = 'province'
            and province.period = previous_month.period
            and province.province_code = previous_month.province_code
            and province.component_key = previous_month.component_key
            and province.fund_source = previous_month.fund_source
            and province.capital_type = previous_month.capital_type
            and province.plan_block = previous_month.plan_block
    cross join lateral (
        values
        ('plan_assigned', province.plan_assigned_vnd, previous_month.plan_assigned_vnd),
        ('allocated', province.allocated_vnd, previous_month.allocated_vnd),
        ('disbursed_cumulative', province.disbursed_cumulative_vnd, previous_month.disbursed_cumulative_vnd)
    ) as measure (name, value_vnd, basis_vnd)
),

treasury_vs_last_month as (
    select
        'treasury_vs_last_month'::text as subject, treasury.period, treasury.province_code,
        treasury.component_key, treasury.fund_source, treasury.capital_type, treasury.plan_block,
        measure.name as measure, measure.value_vnd, null::numeric as province_value_vnd,
        measure.value_vnd as treasury_value_vnd, measure.basis_vnd,
        treasury.source_file, null::text as source_sheet, treasury.source_line as source_row
    from treasury
    inner join previous_month
        on previous_month.subject = 'treasury'
            and treasury.period = previous_month.period
            and treasury.province_code = previous_month.province_code
            and treasury.component_key = previous_month.component_key
            and treasury.fund_source = previous_month.fund_source
            and treasury.capital_type = previous_month.capital_type
            and treasury.plan_block = previous_month.plan_block
    cross join lateral (
        values
        ('allocated', treasury.allocated_vnd, previous_month.allocated_vnd),
        ('disbursed_cumulative', treasury.disbursed_cumulative_vnd, previous_month.disbursed_cumulative_vnd)
    ) as measure (name, value_vnd, basis_vnd)
),

compared as (
    select * from province_vs_treasury
    union all
    select * from province_vs_last_month
    union all
    select * from treasury_vs_last_month
),

ratios as (
    select
        compared.*,
        greatest(abs(compared.value_vnd), abs(compared.basis_vnd))
        / least(abs(compared.value_vnd), abs(compared.basis_vnd)) as ratio
    from compared
    where coalesce(compared.value_vnd, 0) <> 0 and coalesce(compared.basis_vnd, 0) <> 0
)

select
    'NTP-T02'::text as rule_id,
    subject,
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    measure,
    province_value_vnd,
    treasury_value_vnd,
    basis_vnd as expected_vnd,
    value_vnd - basis_vnd as delta_vnd,
    source_file,
    source_sheet,
    source_row,
    subject || ': ×' || round(value_vnd / basis_vnd, 6)::text as detail
from ratios
where
    {% for low, high in var('unit_scale_bands') -%}
        {% if not loop.first %}or {% endif %}ratio between {{ low }} and {{ high }}
    {% endfor %}
