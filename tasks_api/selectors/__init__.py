"""Reads that shape launch records, results and worker state for the API and the admin."""
