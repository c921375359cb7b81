"""Sage Intacct sync: hook, errors and XML handling (see intacct_sync.intacct.hook)."""
