-- The months the pipeline has evaluated: every month a delivered file belongs to (its report month; for a
-- quarantined file whose period could not be read, or is not a report month yet, the month of the run that
-- received it). Statuses compare a month with the previous evaluated one.
with files as (
    select * from {{ ref('stg_audit__files') }}
)

select distinct {{ file_evaluated_period() }} as period
from files
where {{ file_evaluated_period() }} is not null
