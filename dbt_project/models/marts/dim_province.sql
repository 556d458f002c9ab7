-- Provinces before (63) and after (34) the 1 July 2025 merger (NQ 202/2025/QH15), with validity dates,
-- region (Vietnamese and English) and the successor; key = code@era because a code alone is ambiguous.
with successors as (
    select * from {{ ref('int_provinces__successors') }}
),

before_merger as (
    select * from {{ ref('ref_provinces_63') }}
),

after_merger as (
    select * from {{ ref('ref_provinces_34') }}
),

regions as (
    select * from {{ ref('ref_regions') }}
),

units as (
    select province_code, province_name, codename, division_type, '2008'::text as era
    from before_merger
    union all
    select province_code, province_name, codename, division_type, '2025'::text as era
    from after_merger
),

predecessor_counts as (
    select successor_code_2025 as province_code, count(*) as predecessor_count
    from before_merger
    group by 1
)

select
    successors.province_key,
    units.province_code,
    units.province_name,
    successors.region,
    successors.province_code_2025 as successor_code,
    case when units.era = '2008' then date '2008-08-01' else {{ merger_period() }} end as valid_from,
    case when units.era = '2008' then ({{ merger_period() }} - 1) end as valid_to,
    units.era,
    units.codename,
    units.division_type,
    regions.region_en,
    regions.region_order,
    after_merger.province_name as successor_name,
    successors.merged_into_other,
    case when units.era = '2025' then predecessor_counts.predecessor_count end as predecessor_count,
    units.era = '2025' as is_current
from units
inner join successors using (province_code, era)
left join regions on successors.region = regions.region
left join after_merger on successors.province_code_2025 = after_merger.province_code
left join predecessor_counts on units.province_code = predecessor_counts.province_code
