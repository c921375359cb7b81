"""Operators: thin wrappers that put the IntacctHook to work inside Airflow tasks."""
