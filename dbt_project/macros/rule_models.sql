{#- The rule catalogue's queries, one model per rule (models/quality/rule_*.sql). Each returns only the
    failing rows, with the same columns, so fct_findings can stack them. Add a rule: write its model and
    name it here. -#}
{% macro rule_models() -%}
    {{ return([
        'rule_ntp_a01__allocation_mismatch',
    ]) }}
{%- endmacro %}
