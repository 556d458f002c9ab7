{{ config(materialized='ephemeral') }}
-- NTP-A01 allocation_mismatch: province `Đã phân bổ chi tiết` ≠ Treasury Σ du_toan_giao on the
-- reconciliation key, beyond tolerance.
{{ cross_source_mismatch('NTP-A01', 'allocated') }}
