"""The interactive voice response: what a caller hears and presses before the queue."""
