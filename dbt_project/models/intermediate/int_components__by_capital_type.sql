-- Components per sheet (capital type): a component is a leaf of a sheet when none of its children is on that
-- sheet. Only leaves carry money of their own (and Treasury lines); parent lines are sums of their direct
-- children, so roll-ups add leaves only.
with components as (
    select * from {{ ref('ref_components') }}
),

per_sheet as (
    select
        components.component_key,
        components.parent_key,
        components.program as program_key,
        components.level,
        sheets.capital_type
    from components
    cross join lateral unnest(string_to_array(components.capital_types, '|')) as sheets (capital_type)
)

select
    per_sheet.component_key,
    per_sheet.capital_type,
    per_sheet.program_key,
    per_sheet.level,
    per_sheet.parent_key,
    not exists (
        select 1 from per_sheet as child
        where child.parent_key = per_sheet.component_key and child.capital_type = per_sheet.capital_type
    ) as is_leaf
from per_sheet
