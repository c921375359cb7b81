"""The push (PostgreSQL → Intacct): plans, links before writes, posting, the trigger."""
