"""The pull (Intacct → PostgreSQL): extract, land, map, load, deletions, healing."""
