"""Tests of intacct_sync.pull."""
