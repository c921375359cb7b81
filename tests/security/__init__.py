"""Security suite (issue 9)."""
