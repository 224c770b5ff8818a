"""The phone trees as data and the engine that walks them and renders TwiML. May import: models (never flask)."""
