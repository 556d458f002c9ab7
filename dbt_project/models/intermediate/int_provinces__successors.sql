-- Every province unit that ever reported, keyed by code and era, with the post-merger unit (NQ 202/2025/QH15)
-- it belongs to: 63 pre-merger codes → their successor, 34 post-merger codes → themselves. Facts join it
-- on (province_code, era of the report month) to be viewed under either map.
with before_merger as (
    select * from {{ ref('ref_provinces_63') }}
),

after_merger as (
    select * from {{ ref('ref_provinces_34') }}
)

select
    province_code || '@2008' as province_key,
    province_code,
    '2008'::text as era,
    successor_code_2025 as province_code_2025,
    province_code <> successor_code_2025 as merged_into_other,
    region
from before_merger

union all

select
    after_merger.province_code || '@2025' as province_key,
    after_merger.province_code,
    '2025'::text as era,
    after_merger.province_code as province_code_2025,
    false as merged_into_other,
    -- a post-merger unit keeps the region of the pre-merger province whose code it carries
    same_code.region
from after_merger
left join before_merger as same_code using (province_code)
