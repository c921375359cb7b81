"""Airflow DAG: Intacct ⇄ Postgres, pull and push of credit notes (include/dag_factory.py)."""

from include.dag_factory import sync_dag

dag = sync_dag("credit_notes")
