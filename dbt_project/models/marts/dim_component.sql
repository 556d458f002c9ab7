-- Program → project/content → sub-project, from the reference seed.
with components as (
    select * from {{ ref('ref_components') }}
)

select
    component_key,
    treasury_code,
    program as program_key,
    level,
    parent_key,
    stt,
    name_vi,
    capital_types
from components
