-- Program → project/content → sub-project, from the reference seed, with English names, the program's names
-- and the leaf flags per capital type (roll-ups add leaves only: parent lines are sums of their children).
with components as (
    select * from {{ ref('ref_components') }}
),

english as (
    select * from {{ ref('ref_components_en') }}
),

per_sheet as (
    select * from {{ ref('int_components__by_capital_type') }}
),

programs as (
    select components.component_key as program_key, components.name_vi, english.name_en
    from components
    left join english using (component_key)
    where components.level = 'program'
)

select
    components.component_key,
    components.treasury_code,
    components.program as program_key,
    components.level,
    components.parent_key,
    components.stt,
    components.name_vi,
    components.capital_types,
    english.name_en,
    programs.name_vi as program_name_vi,
    programs.name_en as program_name_en,
    case components.level when 'program' then 1 when 'subproject' then 3 else 2 end as depth,
    coalesce(bool_or(per_sheet.is_leaf) filter (where per_sheet.capital_type = 'DTPT'), false) as is_leaf_dtpt,
    coalesce(bool_or(per_sheet.is_leaf) filter (where per_sheet.capital_type = 'SN'), false) as is_leaf_sn,
    true as treasury_code_is_placeholder
from components
left join english using (component_key)
left join programs on components.program = programs.program_key
left join per_sheet using (component_key)
group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
