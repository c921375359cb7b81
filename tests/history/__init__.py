"""Tests of intacct_sync.history."""
