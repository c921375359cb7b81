"""The initial data sync: ranges of at most a year, month chunks, queued runs."""
