"""The lifecycle's services, one module per verb: :mod:`.submit`, :mod:`.decide`,
:mod:`.grant`, :mod:`.end` (expire, revoke, release, cancel, time out), :mod:`.sweep`,
:mod:`.authority` (who may act on a request) and :mod:`.leases` (who may change an
assignment now), behind the :class:`Services` facade.

Each service takes ``now`` (aware UTC) from its caller; tests move time instead of
sleeping. Storage is the source of truth: every status change goes through
:mod:`workflows.lifecycle` (the transition table, then the store's compare-and-set), and
AWS side effects happen only by the caller that won it, or by the sweep for work left
half-done (APPROVED but not ACTIVE after a crash).
"""

from workflows.services.facade import Services
from workflows.services.hooks import Hooks
from workflows.services.leases import Leases, assignment_of

__all__ = ["Hooks", "Leases", "Services", "assignment_of"]
