"""Listeners grouped by surface; each module exposes ``register(app, rt)``.

Every listener acks at once, parses the payload, calls one workflow service and renders.
"""
