"""The JSON API (orders, child-line cases), behind the bearer token; every case read is access-logged.
May import: hotline's wiring, dispatch, models."""
