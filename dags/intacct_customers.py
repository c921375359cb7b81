"""Airflow DAG: Intacct ⇄ Postgres, hourly pull and push of customers (intacct_sync.dag_factory)."""

from intacct_sync.dag_factory import sync_dag

dag = sync_dag("customers")
