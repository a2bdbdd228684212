"""Business logic of the task API: launching and revoking tasks (plain functions)."""
