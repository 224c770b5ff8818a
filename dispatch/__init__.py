"""Everything that leaves the building or waits: matching, offers, replies, escalation, the outbox, the
child-line casework and alerts, the deferred work and its RQ jobs, and the phone providers (providers/: the
neutral interface and inbound events, the local outbox, the Twilio adapter).

May import: models (never flask, hotline or ivr_flows). Jobs take IDs and are idempotent; decisions return
deferred work (dispatch.deferred) that the caller schedules after its commit."""
