-- Treasury lines summed to the reconciliation key. Lines whose plan year is the report year form the
-- current block; earlier plan years form the carried-over block (the province reports it as one).
with lines as (
    select * from {{ ref('stg_treasury__lines') }}
),

current_files as (
    select file_id
    from {{ ref('stg_audit__files') }}
    where kind = 'treasury_extract' and status = 'loaded'
),

components as (
    select component_key, treasury_code from {{ ref('ref_components') }}
)

select
    lines.period,
    lines.province_code,
    components.component_key,
    lines.fund_source,
    lines.capital_type,
    case when lines.plan_year = extract(year from lines.period) then 'current' else 'carryover' end
        as plan_block,
    sum(lines.allocated_vnd) as allocated_vnd,
    sum(lines.paid_cumulative_vnd) as disbursed_cumulative_vnd,
    sum(lines.paid_in_month_vnd) as disbursed_in_month_vnd,
    count(*) as line_count,
    min(lines.file_id) as file_id,
    min(lines.source_line) as source_line
from lines
inner join current_files using (file_id)
inner join components using (treasury_code)
group by 1, 2, 3, 4, 5, 6
