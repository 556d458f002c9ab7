{{ config(materialized='ephemeral') }}
-- The reconciliation rows the cross-source rules (A01, A02, A04) evaluate: leaf lines of province-months
-- that have both sources (when one source is missing entirely only NTP-C01 fires), in the months this run
-- evaluates, with the Treasury file's name for lineage and whether each side has any amount (allocated or
-- disbursed).
with reconciliation as (
    select * from {{ ref('fct_reconciliation') }}
    where {{ findings_filter('period') }}
),

leaves as (
    select capital_type, component_key from {{ ref('int_quality__component_tree') }}
    where is_leaf
),

complete_months as (
    select period, province_code from {{ ref('int_quality__province_months') }}
    where has_both_sources
),

files as (
    select file_id, file_name from {{ ref('stg_audit__files') }}
)

select
    reconciliation.*,
    coalesce(reconciliation.province_allocated_vnd, 0) <> 0
    or coalesce(reconciliation.province_disbursed_cumulative_vnd, 0) <> 0 as province_has_amount,
    coalesce(reconciliation.treasury_allocated_vnd, 0) <> 0
    or coalesce(reconciliation.treasury_disbursed_cumulative_vnd, 0) <> 0 as treasury_has_amount,
    treasury_files.file_name as treasury_source_file
from reconciliation
inner join leaves using (capital_type, component_key)
inner join complete_months using (period, province_code)
left join files as treasury_files on reconciliation.treasury_file_id = treasury_files.file_id
