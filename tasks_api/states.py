"""The task states the API reports. A run's state is stored on its row (TaskLaunch.status) and
changed only by tasks_api.runs.transitions; these are the names and how they group."""

# The only states ever returned (the contract); progress goes in meta, never in a custom state.
STATUSES = ("PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED")
# A worker has the run, or it waits for its retry: not finished, not merely queued.
RUNNING = ("STARTED", "RETRY")
FINISHED = ("SUCCESS", "FAILURE", "REVOKED")
UNFINISHED = ("PENDING", *RUNNING)
UNSUCCESSFUL = ("FAILURE", "REVOKED")
