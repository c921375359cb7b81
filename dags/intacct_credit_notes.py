"""Intacct ⇄ Postgres, pull and push of credit notes (intacct_sync/dag_factory.py)."""

from intacct_sync.dag_factory import sync_dag

dag = sync_dag("credit_notes")
