"""The one HTTP client for the SII (RCV, BHE, F29) and its typed errors and rows."""
