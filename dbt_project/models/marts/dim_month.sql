-- Report months 2021-01 … 2027-12: calendar, plan year, labels and the plan-year deadlines (the deadlines seed,
-- or the statutory defaults when a year is missing from it): allocate the year's plan by 15 April, disburse it
-- by 31 January of the next year (Public Investment Law), disburse carried-over capital by its extension date.
with months as (
    select month_start::date as period
    from generate_series(date '2021-01-01', date '2027-12-01', interval '1 month') as series (month_start)
),

deadlines as (
    select * from {{ ref('ref_deadlines') }}
),

calendar as (
    select
        period,
        (period + interval '1 month' - interval '1 day')::date as month_end,
        extract(year from period)::integer as year,
        extract(quarter from period)::integer as quarter,
        extract(month from period)::integer as month
    from months
),

with_deadlines as (
    select
        calendar.*,
        coalesce(allocation.deadline_date::date, make_date(calendar.year, 4, 15)) as allocation_deadline,
        coalesce(year_end.deadline_date::date, make_date(calendar.year + 1, 1, 31)) as year_end_disbursement_deadline,
        carryover.deadline_date::date as carryover_deadline
    from calendar
    left join deadlines as allocation
        on calendar.year = allocation.plan_year and allocation.deadline_kind = 'allocation'
    left join deadlines as year_end
        on calendar.year = year_end.plan_year and year_end.deadline_kind = 'year_end_disbursement'
    left join deadlines as carryover
        on carryover.plan_year = calendar.year - 1 and carryover.deadline_kind = 'carryover_disbursement'
)

select
    period,
    month_end,
    year,
    quarter,
    month,
    'Tháng ' || month || '/' || year as month_label_vi,
    to_char(period, 'Mon YYYY') as month_label_en,
    'Quý ' || quarter || '/' || year as quarter_label_vi,
    'Q' || quarter || ' ' || year as quarter_label_en,
    year as plan_year,
    case when period >= {{ merger_period() }} then '2025' else '2008' end as province_era,
    allocation_deadline,
    allocation_deadline - month_end as days_to_allocation_deadline,
    month_end > allocation_deadline as allocation_deadline_passed,
    year_end_disbursement_deadline,
    year_end_disbursement_deadline - month_end as days_to_year_end_deadline,
    carryover_deadline,
    carryover_deadline - month_end as days_to_carryover_deadline,
    round(
        100.0 * (month_end - make_date(year, 1, 1) + 1)
        / (year_end_disbursement_deadline - make_date(year, 1, 1) + 1), 2
    ) as plan_time_elapsed_pct
from with_deadlines
