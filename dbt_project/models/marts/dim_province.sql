-- Provinces before (63) and after (34) the 1 July 2025 merger, with validity dates and successor.
with before_merger as (
    select * from {{ ref('ref_provinces_63') }}
),

after_merger as (
    select * from {{ ref('ref_provinces_34') }}
),

region_of_successor as (
    select successor_code_2025 as province_code, min(region) as region
    from before_merger
    group by 1
)

select
    province_code || '@2008' as province_key,
    province_code,
    province_name,
    region,
    successor_code_2025 as successor_code,
    date '2008-08-01' as valid_from,
    date '2025-06-30' as valid_to
from before_merger

union all

select
    after_merger.province_code || '@2025' as province_key,
    after_merger.province_code,
    after_merger.province_name,
    region_of_successor.region,
    after_merger.province_code as successor_code,
    date '2025-07-01' as valid_from,
    null::date as valid_to
from after_merger
left join region_of_successor using (province_code)
