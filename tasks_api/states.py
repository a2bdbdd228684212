"""The task states the API reports, grouped as the API, the admin and the children counts read them."""

# The only states ever returned (the contract); progress goes in meta, never in a custom state.
STATUSES = ("PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED")
RUNNING = ("STARTED", "RETRY")
FINISHED = ("SUCCESS", "FAILURE", "REVOKED")
UNSUCCESSFUL = ("FAILURE", "REVOKED")
