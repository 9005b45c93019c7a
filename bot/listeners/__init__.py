"""Listeners grouped by surface; each module exposes ``register(app, rt)``.

Every listener acks at once, from the request's thread, and returns the rest of its work
(parse the payload, call one workflow service, render), which runs in one of the
runtime's two pools: see :func:`bot.listeners.common.guarded`. Work that opens or redraws
a modal (``/jit``, Request Access, Reject, Revoke, View details, the form's account and
type selects) runs in ``rt.modals``, which never calls AWS; everything else (decisions,
grants, revokes, submissions, App Home) in ``rt.listeners``, where it may wait on
Identity Center's rate limit without holding back a trigger_id.
"""
