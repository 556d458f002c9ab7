{#- The failing rows of a cross-source rule (NTP-A01, NTP-A02): the province's figure for `measure` against
    the Treasury's sum on the reconciliation key, beyond the rule's tolerance. Only keys with an amount in
    both sources are compared (NTP-A04 covers one-sided lines). -#}
{% macro cross_source_mismatch(rule_id, measure) -%}
{%- set province = 'province_' ~ measure ~ '_vnd' -%}
{%- set treasury = 'treasury_' ~ measure ~ '_vnd' -%}
with reconciliation as (
    select * from {{ ref('int_quality__reconciliation') }}
    where province_has_amount and treasury_has_amount
)

select
    '{{ rule_id }}'::text as rule_id,
    'province'::text as subject,
    period,
    province_code,
    component_key,
    fund_source,
    capital_type,
    plan_block,
    '{{ measure }}'::text as measure,
    coalesce({{ province }}, 0) as province_value_vnd,
    coalesce({{ treasury }}, 0) as treasury_value_vnd,
    coalesce({{ treasury }}, 0) as expected_vnd,
    coalesce({{ province }}, 0) - coalesce({{ treasury }}, 0) as delta_vnd,
    source_file,
    source_sheet,
    source_row,
    null::text as detail
from reconciliation
where abs(coalesce({{ province }}, 0) - coalesce({{ treasury }}, 0))
    > {{ rule_tolerance(rule_id, province, treasury) }}
{%- endmacro %}
