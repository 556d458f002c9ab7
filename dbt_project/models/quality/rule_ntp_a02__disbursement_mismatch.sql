{{ config(materialized='ephemeral') }}
-- NTP-A02 disbursement_mismatch: province `Lũy kế giải ngân từ đầu năm` ≠ Treasury Σ luy_ke_thanh_toan on
-- the reconciliation key, beyond tolerance.
{{ cross_source_mismatch('NTP-A02', 'disbursed_cumulative') }}
