"""Everything that leaves the building or waits: matching, offers, escalation, providers, RQ jobs."""
