"""Web and wiring: configuration, the app factory, webhooks, the JSON API and the CLI.

Nothing is imported here, so `import hotline.config` (all the worker needs) loads neither Flask nor the
console; the app factory is `hotline.factory.create_app`. May import ivr_flows, dispatch and models.
"""
