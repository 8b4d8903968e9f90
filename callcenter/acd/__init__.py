"""Automatic call distribution: queues, agents, offers and service-level accounting.

Everything in this package is pure: no sockets, no database, time from an injected clock.
`acd.Acd` is the entry point; events.py lists what it publishes. The other modules each
answer one question for it: model.py (the nouns), routing.py (which agent), overflow.py
(queue limits), callbacks.py (callback retries and saved entries), estimate.py (expected
wait), service_level.py (figures and formulas), occupancy.py (agent occupancy),
persistence.py (state as plain dicts), index.py (per-queue lines and agents, so an
operation costs what it touches, not the whole desk), core.py (the mechanics under the
operations).
"""
