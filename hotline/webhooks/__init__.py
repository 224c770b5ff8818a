"""Twilio's webhooks: the voice walk, ringing a person, the child line's route, SMS, satisfaction, the
fallback; receipts (one effect per delivery); the receiving Twilio adapter (signatures, neutral events).
May import: hotline's wiring (db, config, params, security), ivr_flows, dispatch, models."""
