"""The console softphone's phone line: a virtual Twilio that walks the app's TwiML with signed in-process
webhooks, what Twilio puts on the wire, and the TwiML verbs it plays. May import: hotline's wiring,
dispatch, models."""
