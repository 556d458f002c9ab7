-- The component tree per sheet (capital type): a component belongs to the sheets of its capital types,
-- and a *leaf* of a sheet is a component without children on that sheet. Only leaves carry money of their
-- own (and Treasury lines); every other line is the sum of its direct children.
with components as (
    select * from {{ ref('ref_components') }}
),

per_sheet as (
    select
        component_key,
        parent_key,
        program,
        unnest(string_to_array(capital_types, '|')) as capital_type
    from components
)

select
    per_sheet.capital_type,
    per_sheet.component_key,
    per_sheet.parent_key,
    per_sheet.program,
    not exists (
        select 1 from per_sheet as children
        where children.parent_key = per_sheet.component_key
            and children.capital_type = per_sheet.capital_type
    ) as is_leaf
from per_sheet
