"""Example plugins for python steps (examples/jobs.d/orders.toml)."""
