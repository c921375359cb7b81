"""Airflow DAG: Intacct ⇄ Postgres, hourly pull and push of customers (include/dag_factory.py)."""

from include.dag_factory import sync_dag

dag = sync_dag("customers")
