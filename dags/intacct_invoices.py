"""Airflow DAG: Intacct → Postgres, hourly pull of invoices (include/dag_factory.py)."""

from include.dag_factory import pull_dag

dag = pull_dag("invoices")
