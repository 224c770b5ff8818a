"""The registries: CSV import (all or nothing, by line), its cell parsers, the demo data and its history.
May import: hotline's wiring, models."""
