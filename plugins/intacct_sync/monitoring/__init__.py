"""What people see of the sync: status figures, tie-out, failure notifications."""
