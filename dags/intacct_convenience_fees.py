"""Airflow DAG: Postgres → Intacct, push of convenience fees (include/dag_factory.py)."""

from include.dag_factory import sync_dag

dag = sync_dag("convenience_fees")
