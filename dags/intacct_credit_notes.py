"""Airflow DAG: Intacct → Postgres, hourly pull of credit notes (include/dag_factory.py)."""

from include.dag_factory import pull_dag

dag = pull_dag("credit_notes")
