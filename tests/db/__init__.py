"""Tests of intacct_sync.db."""
