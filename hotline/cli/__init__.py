"""The `flask` commands (imports, outbox, users, demo, simulate) and `make run`'s launcher.
May import: hotline's wiring and rooms, dispatch, models."""
