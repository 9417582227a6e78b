"""Operational state beside the warehouse (ops.store): notice log, settings, audit trail, sign-in journal;
and the app served by a child process (ops.appserver), for the benchmarks and the tests."""
