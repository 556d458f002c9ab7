{{ config(materialized='ephemeral') }}
-- The annual plan assignment (Quyết định giao kế hoạch vốn) per evaluated report month (those this run
-- evaluates): Σ ke_hoach_giao of the plan year of the month on the reconciliation key. From July 2025 a
-- merged province's plan is the sum of its predecessors' lines (the decision of early 2025 names the 63
-- provinces).
with plan_lines as (
    select * from {{ ref('stg_treasury__plan_assignments') }}
),

loaded_files as (
    select file_id, file_name from {{ ref('stg_audit__files') }}
    where kind = 'plan_assignment' and status = 'loaded'
),

components as (
    select component_key, treasury_code from {{ ref('ref_components') }}
),

successors as (
    select province_code, successor_code_2025 from {{ ref('ref_provinces_63') }}
),

months as (
    select period from {{ ref('int_quality__evaluated_months') }}
    where {{ findings_filter('period') }}
)

select
    months.period,
    case when months.period >= {{ merger_period() }}
            then coalesce(successors.successor_code_2025, plan_lines.province_code)
        else plan_lines.province_code
    end as province_code,
    components.component_key,
    plan_lines.fund_source,
    plan_lines.capital_type,
    'current'::text as plan_block,
    sum(plan_lines.plan_assigned_vnd) as plan_assigned_vnd,
    min(loaded_files.file_name) as source_file,
    min(plan_lines.source_line) as source_row
from plan_lines
inner join loaded_files using (file_id)
inner join components using (treasury_code)
inner join months on extract(year from months.period) = plan_lines.plan_year
left join successors on plan_lines.province_code = successors.province_code
group by 1, 2, 3, 4, 5, 6
