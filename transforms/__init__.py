"""Transforms: load, clean, reference data, data quality, and the downstream outputs
(plan documents, inbox intake, evaluation, notifications, credit lists, KPIs)."""
