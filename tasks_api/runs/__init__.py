"""Runs: the stored state of every launch, the one module that changes it, and its attempts."""
