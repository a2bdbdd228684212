"""The SII governor: one pace and one breaker per SII surface, shared by every worker on every host."""
