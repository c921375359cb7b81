"""The database side: migrations, connections, sync state, reconciliation errors."""
