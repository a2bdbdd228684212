"""An SII simulator: the other side of the client's wire, deterministic and fault-injectable."""
