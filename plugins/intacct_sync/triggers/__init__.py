"""Triggers (event-driven scheduling)."""
