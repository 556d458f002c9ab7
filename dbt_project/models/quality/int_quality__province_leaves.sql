{{ config(materialized='ephemeral') }}
-- The province's figures on leaf lines (lines carrying money of their own), from the current version of
-- each workbook, in the months this run evaluates: the input of the single-source line rules (I01, I02,
-- T01, T02, D01).
with province as (
    select * from {{ ref('int_province_figures__current') }}
    where {{ findings_filter('period') }}
),

leaves as (
    select capital_type, component_key from {{ ref('int_quality__component_tree') }}
    where is_leaf
)

select province.*
from province
inner join leaves using (capital_type, component_key)
