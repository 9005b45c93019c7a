"""Listeners grouped by surface; each module exposes ``register(app, rt)``.

Every listener acks at once, from the request's thread, and returns the rest of its work
(parse the payload, call one workflow service, render), which runs in the runtime's
listener pool: see :func:`bot.listeners.common.guarded`.
"""
