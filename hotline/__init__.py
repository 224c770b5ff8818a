"""Web and wiring. Its own modules are the wiring every room uses: config (settings), factory (the app, which
assembles the rooms), db (the request's session, queue and state), params (request parameters), security
(webhook limits, the API token), headers (security headers), staff (console users). The rooms:

- webhooks/  Twilio's webhooks and the receiving Twilio adapter
- api/       the JSON API
- console/   the staff console
- softphone/ the console softphone's virtual phone line
- registry/  CSV imports and the demo data
- reports/   report figures and charts
- cli/       the `flask` commands and `make run`'s launcher

Nothing is imported here, so `import hotline.config` (all the worker needs) loads neither Flask nor the
console. hotline may import ivr_flows, dispatch and models; no room imports the factory or the launcher,
and rooms do not import each other in a cycle (tests/test_architecture.py).
"""
