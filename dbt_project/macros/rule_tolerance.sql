{#- Tolerance of one rule from the catalogue seed, as a SQL expression over two VND figures. -#}
{% macro rule_tolerance(rule_id, a, b) -%}
    greatest(
        (select tolerance_vnd from {{ ref('ref_rule_catalogue') }} where rule_id = '{{ rule_id }}')::numeric,
        (select tolerance_pct from {{ ref('ref_rule_catalogue') }} where rule_id = '{{ rule_id }}')::numeric
            / 100 * greatest(abs(coalesce({{ a }}, 0)), abs(coalesce({{ b }}, 0)))
    )
{%- endmacro %}
