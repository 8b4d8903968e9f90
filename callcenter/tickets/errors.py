"""What the ticket rules refuse, in the desk's words; `api/` gives each its status code."""

from __future__ import annotations


class TicketNotFound(LookupError):
    """The ticket asked for does not exist."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"no ticket {ticket_id}")
        self.ticket_id = ticket_id


class StaleVersion(Exception):
    """The edit was made against another version than the current one."""

    def __init__(self, ticket_id: int, expected: int, current: int) -> None:
        super().__init__(f"ticket {ticket_id} is at version {current}, not {expected}")
        self.current = current


class TicketRefused(ValueError):
    """A request the ticket rules refuse: `code` names the rule, `field` the request
    field at fault."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code, self.field = code, field


class Conflict(TicketRefused):
    """The ticket's state forbids it: a workflow move, a link that exists or would loop."""


class Impossible(TicketRefused):
    """The request names something that cannot be: an unknown employee or device, a
    ticket linked to itself."""


class NoSuchFilter(TicketRefused):
    """A list filter names an employee or device that does not exist."""
