"""Tickets: the workflow, SLA clocks and calendars, priority, the ticket store and its queries."""
