-- Deadlines per plan year and kind (allocation, carryover_disbursement, year_end_disbursement), from the
-- seed ref_deadlines: the rules never hard-code a date.
select
    plan_year::integer as plan_year,
    deadline_kind,
    deadline_date::date as deadline_date,
    basis
from {{ ref('ref_deadlines') }}
