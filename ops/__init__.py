"""Operational state beside the warehouse (ops.store): notice log, settings, audit trail, sign-in journal."""
