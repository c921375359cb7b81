"""Airflow hooks of intacct-sync."""
