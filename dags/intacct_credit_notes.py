"""Airflow DAG: Intacct ⇄ Postgres, pull and push of credit notes (intacct_sync.dag_factory)."""

from intacct_sync.dag_factory import sync_dag

dag = sync_dag("credit_notes")
