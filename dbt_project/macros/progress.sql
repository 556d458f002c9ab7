{#- Disbursement progress measures shared by the BI marts (mart_disbursement_*). -#}

{#- Sums over fct_published_figures leaf keys (`k`): the published figures, the coverage of the total (keys and
    provinces by status, the published amounts that are agreed) and, as their own columns, the unfiltered
    province-reported and Treasury-reported sums. -#}
{% macro progress_sums_from_keys(k='keys') -%}
    sum({{ k }}.published_plan_assigned_vnd) as published_plan_assigned_vnd,
    sum({{ k }}.published_allocated_vnd) as published_allocated_vnd,
    sum({{ k }}.published_disbursed_cumulative_vnd) as published_disbursed_cumulative_vnd,
    sum({{ k }}.published_disbursed_in_month_vnd) as published_disbursed_in_month_vnd,
    sum({{ k }}.published_allocated_vnd) filter (where {{ k }}.published_plan_assigned_vnd is not null)
        as published_allocated_with_plan_vnd,
    sum({{ k }}.published_disbursed_cumulative_vnd) filter (where {{ k }}.published_plan_assigned_vnd is not null)
        as published_disbursed_with_plan_vnd,
    coalesce(sum({{ k }}.published_allocated_vnd) filter (where {{ k }}.is_agreed), 0) as agreed_allocated_vnd,
    coalesce(sum({{ k }}.published_disbursed_cumulative_vnd) filter (where {{ k }}.is_agreed), 0)
        as agreed_disbursed_cumulative_vnd,
    count(*) as keys_total,
    count(*) filter (where {{ k }}.is_agreed) as keys_agreed,
    count(*) filter (where {{ k }}.is_disputed) as keys_disputed,
    count(*) filter (where {{ k }}.is_suspect) as keys_suspect,
    count(*) filter (where {{ k }}.is_missing) as keys_missing,
    count(*) filter (where {{ k }}.is_explained) as keys_explained,
    count(*) filter (where {{ k }}.exceeds_plan) as keys_exceeding_plan,
    count(distinct {{ k }}.province_code) as provinces_total,
    count(distinct {{ k }}.province_code) - count(distinct {{ k }}.province_code) filter (where not {{ k }}.is_agreed)
        as provinces_agreed,
    count(distinct {{ k }}.province_code) filter (where {{ k }}.is_disputed) as provinces_disputed,
    count(distinct {{ k }}.province_code) filter (where {{ k }}.is_suspect) as provinces_suspect,
    count(distinct {{ k }}.province_code) filter (where {{ k }}.is_missing) as provinces_missing,
    count(distinct {{ k }}.province_code) filter (where {{ k }}.is_explained) as provinces_explained,
    sum({{ k }}.province_plan_assigned_vnd) as plan_assigned_vnd,
    sum({{ k }}.province_allocated_vnd) as province_allocated_vnd,
    sum({{ k }}.treasury_allocated_vnd) as treasury_allocated_vnd,
    sum({{ k }}.province_disbursed_cumulative_vnd) as province_disbursed_cumulative_vnd,
    sum({{ k }}.treasury_disbursed_cumulative_vnd) as treasury_disbursed_cumulative_vnd,
    sum({{ k }}.province_disbursed_in_month_vnd) as province_disbursed_in_month_vnd,
    sum({{ k }}.treasury_disbursed_in_month_vnd) as treasury_disbursed_in_month_vnd,
    count(distinct {{ k }}.province_code) filter (where {{ k }}.in_province_report) as provinces_reporting,
    count(distinct {{ k }}.province_code) filter (where {{ k }}.in_treasury_extract) as provinces_in_treasury
{%- endmacro %}

{#- The same sums over a finer progress mart (roll-ups); provinces are counted as they existed that month. -#}
{% macro progress_sums_from_mart() -%}
    sum(published_plan_assigned_vnd) as published_plan_assigned_vnd,
    sum(published_allocated_vnd) as published_allocated_vnd,
    sum(published_disbursed_cumulative_vnd) as published_disbursed_cumulative_vnd,
    sum(published_disbursed_in_month_vnd) as published_disbursed_in_month_vnd,
    sum(published_allocated_with_plan_vnd) as published_allocated_with_plan_vnd,
    sum(published_disbursed_with_plan_vnd) as published_disbursed_with_plan_vnd,
    sum(agreed_allocated_vnd) as agreed_allocated_vnd,
    sum(agreed_disbursed_cumulative_vnd) as agreed_disbursed_cumulative_vnd,
    sum(keys_total)::bigint as keys_total,
    sum(keys_agreed)::bigint as keys_agreed,
    sum(keys_disputed)::bigint as keys_disputed,
    sum(keys_suspect)::bigint as keys_suspect,
    sum(keys_missing)::bigint as keys_missing,
    sum(keys_explained)::bigint as keys_explained,
    sum(keys_exceeding_plan)::bigint as keys_exceeding_plan,
    sum(provinces_total)::bigint as provinces_total,
    sum(provinces_agreed)::bigint as provinces_agreed,
    sum(provinces_disputed)::bigint as provinces_disputed,
    sum(provinces_suspect)::bigint as provinces_suspect,
    sum(provinces_missing)::bigint as provinces_missing,
    sum(provinces_explained)::bigint as provinces_explained,
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
    {{ m }}.published_plan_assigned_vnd,
    {{ m }}.published_allocated_vnd,
    {{ m }}.published_disbursed_cumulative_vnd,
    {{ m }}.published_disbursed_in_month_vnd,
    {{ m }}.published_allocated_with_plan_vnd,
    {{ m }}.published_disbursed_with_plan_vnd,
    {{ m }}.agreed_allocated_vnd,
    {{ m }}.agreed_disbursed_cumulative_vnd,
    {{ pct(m ~ '.agreed_allocated_vnd', m ~ '.published_allocated_vnd') }} as agreed_share_allocated_pct,
    {{ pct(m ~ '.agreed_disbursed_cumulative_vnd', m ~ '.published_disbursed_cumulative_vnd') }}
        as agreed_share_disbursed_pct,
    {{ m }}.keys_total,
    {{ m }}.keys_agreed,
    {{ m }}.keys_disputed,
    {{ m }}.keys_suspect,
    {{ m }}.keys_missing,
    {{ m }}.keys_explained,
    {{ m }}.keys_exceeding_plan,
    {{ m }}.provinces_total,
    {{ m }}.provinces_agreed,
    {{ m }}.provinces_disputed,
    {{ m }}.provinces_suspect,
    {{ m }}.provinces_missing,
    {{ m }}.provinces_explained,
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
    {{ pct(m ~ '.published_allocated_with_plan_vnd', m ~ '.published_plan_assigned_vnd') }} as allocation_rate_pct,
    {{ pct(m ~ '.published_disbursed_with_plan_vnd', m ~ '.published_plan_assigned_vnd') }} as disbursement_rate_pct,
    {{ pct(m ~ '.treasury_disbursed_cumulative_vnd', m ~ '.published_plan_assigned_vnd') }}
        as treasury_disbursement_rate_pct,
    {{ pct(m ~ '.published_disbursed_cumulative_vnd', m ~ '.published_allocated_vnd') }}
        as disbursement_of_allocated_pct,
    {{ m }}.published_plan_assigned_vnd - {{ m }}.published_disbursed_with_plan_vnd as remaining_to_disburse_vnd,
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
    {{ progress_pace(r) }},
    {{ r }}.published_plan_assigned_vnd,
    {{ r }}.published_allocated_vnd,
    {{ r }}.published_disbursed_cumulative_vnd,
    {{ r }}.published_disbursed_in_month_vnd,
    {{ r }}.published_allocated_with_plan_vnd,
    {{ r }}.published_disbursed_with_plan_vnd,
    {{ r }}.agreed_allocated_vnd,
    {{ r }}.agreed_disbursed_cumulative_vnd,
    {{ r }}.agreed_share_allocated_pct,
    {{ r }}.agreed_share_disbursed_pct,
    {{ r }}.keys_total,
    {{ r }}.keys_agreed,
    {{ r }}.keys_disputed,
    {{ r }}.keys_suspect,
    {{ r }}.keys_missing,
    {{ r }}.keys_explained,
    {{ r }}.keys_exceeding_plan,
    {{ r }}.provinces_total,
    {{ r }}.provinces_agreed,
    {{ r }}.provinces_disputed,
    {{ r }}.provinces_suspect,
    {{ r }}.provinces_missing,
    {{ r }}.provinces_explained,
    {{ r }}.allocation_rate_pct > 100 or {{ r }}.disbursement_rate_pct > 100 as exceeds_plan
{%- endmacro %}
