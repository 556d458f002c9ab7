-- Funding source × capital type: NSTW / NSĐP × ĐTPT / SN.
with fund_sources as (
    select * from (
        values
        ('NSTW', 'NSTW', 'Ngân sách trung ương', 'Central budget', 1),
        ('NSDP', 'NSĐP', 'Ngân sách địa phương', 'Local budget (counterpart funds)', 2)
    ) as v (fund_source, fund_source_label, fund_source_name_vi, fund_source_name_en, fund_source_order)
),

capital_types as (
    select * from (
        values
        ('DTPT', 'ĐTPT', 'Vốn đầu tư phát triển', 'Development investment capital', 'Biểu 01a', 1),
        ('SN', 'SN', 'Vốn sự nghiệp', 'Recurrent capital', 'Biểu 01b', 2)
    )
        as v (
            capital_type, capital_type_label, capital_type_name_vi, capital_type_name_en, sheet_name, capital_type_order
        )
)

select
    fund_sources.fund_source || '.' || capital_types.capital_type as funding_key,
    fund_sources.fund_source,
    fund_sources.fund_source_label,
    fund_sources.fund_source_name_vi,
    fund_sources.fund_source_name_en,
    capital_types.capital_type,
    capital_types.capital_type_label,
    capital_types.capital_type_name_vi,
    capital_types.capital_type_name_en,
    capital_types.sheet_name,
    fund_sources.fund_source_order * 10 + capital_types.capital_type_order as sort_order
from fund_sources
cross join capital_types
