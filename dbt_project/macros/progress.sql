{#- Disbursement progress measures shared by the BI marts (mart_disbursement_*). -#}

{#- Sums over fct_ntp_monthly leaf rows, one column per source. -#}
{% macro progress_sums_from_fact() -%}
    sum(plan_assigned_vnd) filter (where reporting_source = 'province') as plan_assigned_vnd,
    sum(allocated_vnd) filter (where reporting_source = 'province') as province_allocated_vnd,
    sum(allocated_vnd) filter (where reporting_source = 'treasury') as treasury_allocated_vnd,
    sum(disbursed_cumulative_vnd) filter (where reporting_source = 'province') as province_disbursed_cumulative_vnd,
    sum(disbursed_cumulative_vnd) filter (where reporting_source = 'treasury') as treasury_disbursed_cumulative_vnd,
    sum(disbursed_in_month_vnd) filter (where reporting_source = 'province') as province_disbursed_in_month_vnd,
    sum(disbursed_in_month_vnd) filter (where reporting_source = 'treasury') as treasury_disbursed_in_month_vnd,
    count(distinct province_code) filter (where reporting_source = 'province') as provinces_reporting,
    count(distinct province_code) filter (where reporting_source = 'treasury') as provinces_in_treasury
{%- endmacro %}

{#- The same sums over a finer progress mart (roll-ups). -#}
{% macro progress_sums_from_mart() -%}
    sum(plan_assigned_vnd) as plan_assigned_vnd,
    sum(province_allocated_vnd) as province_allocated_vnd,
    sum(treasury_allocated_vnd) as treasury_allocated_vnd,
    sum(province_disbursed_cumulative_vnd) as province_disbursed_cumulative_vnd,
    sum(treasury_disbursed_cumulative_vnd) as treasury_disbursed_cumulative_vnd,
    sum(province_disbursed_in_month_vnd) as province_disbursed_in_month_vnd,
    sum(treasury_disbursed_in_month_vnd) as treasury_disbursed_in_month_vnd,
    sum(provinces_reporting)::bigint as provinces_reporting,
    sum(provinces_in_treasury)::bigint as provinces_in_treasury
{%- endmacro %}

{#- Rates against plan and against the deadlines; `m` has the sums, `months` is dim_month. -#}
{% macro progress_rates(m='measures', months='months') -%}
    {{ m }}.plan_assigned_vnd,
    {{ m }}.province_allocated_vnd,
    {{ m }}.treasury_allocated_vnd,
    {{ m }}.province_disbursed_cumulative_vnd,
    {{ m }}.treasury_disbursed_cumulative_vnd,
    {{ m }}.province_disbursed_in_month_vnd,
    {{ m }}.treasury_disbursed_in_month_vnd,
    {{ m }}.province_disbursed_cumulative_vnd - {{ m }}.treasury_disbursed_cumulative_vnd as disbursed_delta_vnd,
    {{ m }}.province_allocated_vnd - {{ m }}.treasury_allocated_vnd as allocated_delta_vnd,
    {{ m }}.provinces_reporting,
    {{ m }}.provinces_in_treasury,
    {{ pct(m ~ '.province_allocated_vnd', m ~ '.plan_assigned_vnd') }} as allocation_rate_pct,
    {{ pct(m ~ '.province_disbursed_cumulative_vnd', m ~ '.plan_assigned_vnd') }} as disbursement_rate_pct,
    {{ pct(m ~ '.treasury_disbursed_cumulative_vnd', m ~ '.plan_assigned_vnd') }} as treasury_disbursement_rate_pct,
    {{ pct(m ~ '.province_disbursed_cumulative_vnd', m ~ '.province_allocated_vnd') }} as disbursement_of_allocated_pct,
    {{ m }}.plan_assigned_vnd - {{ m }}.province_disbursed_cumulative_vnd as remaining_to_disburse_vnd,
    {{ months }}.allocation_deadline,
    {{ months }}.allocation_deadline_passed,
    case when {{ m }}.plan_block = 'current' then {{ months }}.year_end_disbursement_deadline
        else {{ months }}.carryover_deadline end as disbursement_deadline,
    case when {{ m }}.plan_block = 'current' then {{ months }}.days_to_year_end_deadline
        else {{ months }}.days_to_carryover_deadline end as days_to_disbursement_deadline,
    least(100, round(100.0 * ({{ months }}.month_end - make_date({{ months }}.year, 1, 1) + 1)
        / nullif((case when {{ m }}.plan_block = 'current' then {{ months }}.year_end_disbursement_deadline
            else {{ months }}.carryover_deadline end) - make_date({{ months }}.year, 1, 1) + 1, 0), 2))
        as time_elapsed_pct
{%- endmacro %}

{#- Columns computed from progress_rates' output (`r`). -#}
{% macro progress_pace(r='rates') -%}
    {{ r }}.disbursement_rate_pct - {{ r }}.time_elapsed_pct as pace_gap_pct,
    {{ r }}.disbursement_rate_pct >= {{ r }}.time_elapsed_pct as on_track
{%- endmacro %}


{#- The measure, rate and deadline columns every progress mart ends with, in one order, from the `rates` CTE
    that progress_rates() builds. -#}
{% macro progress_columns(r='rates') -%}
    {{ r }}.plan_assigned_vnd,
    {{ r }}.province_allocated_vnd,
    {{ r }}.treasury_allocated_vnd,
    {{ r }}.province_disbursed_cumulative_vnd,
    {{ r }}.treasury_disbursed_cumulative_vnd,
    {{ r }}.province_disbursed_in_month_vnd,
    {{ r }}.treasury_disbursed_in_month_vnd,
    {{ r }}.disbursed_delta_vnd,
    {{ r }}.allocated_delta_vnd,
    {{ r }}.provinces_reporting,
    {{ r }}.provinces_in_treasury,
    {{ r }}.allocation_rate_pct,
    {{ r }}.disbursement_rate_pct,
    {{ r }}.treasury_disbursement_rate_pct,
    {{ r }}.disbursement_of_allocated_pct,
    {{ r }}.remaining_to_disburse_vnd,
    {{ r }}.allocation_deadline,
    {{ r }}.allocation_deadline_passed,
    {{ r }}.disbursement_deadline,
    {{ r }}.days_to_disbursement_deadline,
    {{ r }}.time_elapsed_pct,
    {{ progress_pace(r) }}
{%- endmacro %}
