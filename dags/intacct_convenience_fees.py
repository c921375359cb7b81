"""Airflow DAG: Postgres → Intacct, push of convenience fees (intacct_sync.dag_factory)."""

from intacct_sync.dag_factory import sync_dag

dag = sync_dag("convenience_fees")
