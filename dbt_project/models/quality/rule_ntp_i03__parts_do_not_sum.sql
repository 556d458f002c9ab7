{{ config(materialized='ephemeral') }}
-- NTP-I03 parts_do_not_sum, within each current workbook version and sheet, per plan block and measure:
--   * a parent line ≠ the sum of its DIRECT children (the component tree of that sheet), NSTW and NSĐP;
--   * the TỔNG SỐ line (component_key TOTAL) ≠ the sum of the program lines;
--   * a `Tổng số` cell (fund_source TOTAL) ≠ NSTW + NSĐP of the same line.
with cells as (
    select cells.*, files.file_name
    from {{ ref('stg_province__report_cells') }} as cells
    inner join {{ ref('stg_audit__files') }} as files using (file_id)
    where files.kind = 'province_workbook' and files.status = 'loaded'
        and {{ findings_filter('files.period') }}
        and {{ findings_filter('cells.period') }}  -- the same months, as literals: partitions pruned
        and cells.measure in ('plan_assigned', 'allocated', 'disbursed_cumulative')
),

tree as (
    select * from {{ ref('int_quality__component_tree') }}
),

workbook_sheets as (
    select distinct file_id, file_name, source_sheet, period, province_code, capital_type from cells
),

parent_lines as (
    select cells.*
    from cells
    left join tree using (capital_type, component_key)
    where cells.fund_source in ('NSTW', 'NSDP')
        and (cells.component_key = 'TOTAL' or not tree.is_leaf)
),

children_sums as (
    select
        cells.file_id, cells.capital_type,
        coalesce(tree.parent_key, 'TOTAL') as component_key,
        cells.plan_block, cells.measure, cells.fund_source,
        sum(cells.value) as children_vnd
    from cells
    inner join tree using (capital_type, component_key)
    where cells.fund_source in ('NSTW', 'NSDP')
    group by 1, 2, 3, 4, 5, 6
),

parent_checks as (
    select
        coalesce(parent_lines.file_id, children_sums.file_id) as file_id,
        coalesce(parent_lines.capital_type, children_sums.capital_type) as capital_type,
        coalesce(parent_lines.component_key, children_sums.component_key) as component_key,
        coalesce(parent_lines.plan_block, children_sums.plan_block) as plan_block,
        coalesce(parent_lines.measure, children_sums.measure) as measure,
        coalesce(parent_lines.fund_source, children_sums.fund_source) as fund_source,
        coalesce(parent_lines.value, 0) as value_vnd,
        coalesce(children_sums.children_vnd, 0) as expected_vnd,
        parent_lines.source_row,
        'Σ direct children'::text as detail
    from parent_lines
    full outer join children_sums
        on parent_lines.file_id = children_sums.file_id
            and parent_lines.capital_type = children_sums.capital_type
            and parent_lines.component_key = children_sums.component_key
            and parent_lines.plan_block = children_sums.plan_block
            and parent_lines.measure = children_sums.measure
            and parent_lines.fund_source = children_sums.fund_source
),

source_sums as (
    select file_id, capital_type, component_key, plan_block, measure, sum(value) as sources_vnd
    from cells
    where fund_source in ('NSTW', 'NSDP')
    group by 1, 2, 3, 4, 5
),

total_column_checks as (
    select
        cells.file_id, cells.capital_type, cells.component_key, cells.plan_block, cells.measure,
        cells.fund_source,
        cells.value as value_vnd,
        coalesce(source_sums.sources_vnd, 0) as expected_vnd,
        cells.source_row,
        'NSTW + NSĐP'::text as detail
    from cells
    left join source_sums using (file_id, capital_type, component_key, plan_block, measure)
    where cells.fund_source = 'TOTAL'
),

checks as (
    select * from parent_checks
    union all
    select * from total_column_checks
)

select
    'NTP-I03'::text as rule_id,
    'province'::text as subject,
    workbook_sheets.period,
    workbook_sheets.province_code,
    checks.component_key,
    checks.fund_source,
    checks.capital_type,
    checks.plan_block,
    checks.measure,
    checks.value_vnd as province_value_vnd,
    null::numeric as treasury_value_vnd,
    checks.expected_vnd,
    checks.value_vnd - checks.expected_vnd as delta_vnd,
    workbook_sheets.file_name as source_file,
    workbook_sheets.source_sheet,
    checks.source_row,
    checks.detail
from checks
inner join workbook_sheets using (file_id, capital_type)
where abs(checks.value_vnd - checks.expected_vnd)
    > {{ rule_tolerance('NTP-I03', 'checks.value_vnd', 'checks.expected_vnd') }}
