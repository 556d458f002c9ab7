{{ config(materialized='ephemeral') }}
-- NTP-F01 file_rejected: a delivered file could not be read correctly and was quarantined (not a workbook
-- or CSV, encrypted, oversized, required columns missing, an unparseable cell, no identifiable province or
-- period, …). Names the file, sheet, row, column and reason, with province and period when they were read
-- (otherwise the month of the run that received it).
with quarantined as (
    select * from {{ ref('int_quality__quarantined_files') }}
    where rule_id = 'NTP-F01'
)

{{ quarantined_file_rows('NTP-F01') }}
