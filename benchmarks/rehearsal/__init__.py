"""`make rehearse`: a night of thousands of companies against the simulator, and what the SII saw."""
