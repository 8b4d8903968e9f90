"""Automatic call distribution: queues, agents, offers and service-level accounting.

Everything in this package is pure: no sockets, no database, time from an injected clock.
"""
