{#- The rule catalogue's queries, one model per rule (models/quality/rule_*.sql). Each returns only the
    failing rows, with the same columns, so fct_findings can stack them. Add a rule: write its model and
    name it here. -#}
{% macro rule_models() -%}
    {{ return([
        'rule_ntp_a01__allocation_mismatch',
        'rule_ntp_a02__disbursement_mismatch',
        'rule_ntp_a03__plan_mismatch',
        'rule_ntp_a04__one_sided_line',
        'rule_ntp_c01__report_missing',
        'rule_ntp_c02__unresolved_reference',
        'rule_ntp_d01__allocation_deadline_missed',
        'rule_ntp_d02__carryover_deadline_missed',
        'rule_ntp_d03__year_end_risk',
        'rule_ntp_f01__file_rejected',
        'rule_ntp_i01__disbursed_exceeds_allocated',
        'rule_ntp_i02__allocated_exceeds_plan',
        'rule_ntp_i03__parts_do_not_sum',
        'rule_ntp_i04__rate_mismatch',
        'rule_ntp_t01__cumulative_decreased',
        'rule_ntp_t02__unit_scale_suspect',
    ]) }}
{%- endmacro %}
