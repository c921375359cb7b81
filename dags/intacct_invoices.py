"""Airflow DAG: Intacct ⇄ Postgres, hourly pull and push of invoices (intacct_sync.dag_factory)."""

from intacct_sync.dag_factory import sync_dag

dag = sync_dag("invoices")
