"""JSON shapes of domain objects as the API shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from callcenter.acd.acd import Acd
from callcenter.acd.model import Agent
from callcenter.knowledge.store import Article, Suggestion
from callcenter.tickets.records import (
    AcdEventEntry,
    AgentAccount,
    CallRecord,
    QueueMembership,
    Ticket,
)

#: The window the queue figures (service level, ASA, AHT) are computed over.
QUEUE_WINDOW_SECONDS = 3600.0


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC; a naive datetime (SQLite drops the zone) is taken as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def agent_view(agent: Agent, now: float) -> dict[str, Any]:
    return {
        "username": agent.agent_id,
        "state": agent.state.value,
        "reason": agent.reason,
        "time_in_state_seconds": max(0.0, now - agent.state_since),
        "queues": sorted(agent.queues),
        "call_id": agent.call_id,
        "pending_state": agent.pending_state.value if agent.pending_state else None,
    }


def membership_view(membership: QueueMembership) -> dict[str, Any]:
    return {"level": membership.level, "penalty": membership.penalty}


def agent_admin_view(account: AgentAccount, agent: Agent | None, now: float) -> dict[str, Any]:
    """One agent: its live state (all null while the ACD does not have it, i.e. it was
    added to the database after start) and the queues and skills the database keeps."""
    live: dict[str, Any] = (
        agent_view(agent, now)
        if agent is not None
        else {
            "username": account.username,
            "state": None,
            "reason": None,
            "time_in_state_seconds": None,
            "queues": [],
            "call_id": None,
            "pending_state": None,
        }
    )
    return {
        **live,
        "display_name": account.display_name,
        "memberships": {
            queue: membership_view(account.memberships[queue])
            for queue in sorted(account.memberships)
        },
        "skills": dict(sorted(account.skills.items())),
    }


def queue_member_view(
    account: AgentAccount, queue: str, agent: Agent | None, now: float
) -> dict[str, Any]:
    return {
        "username": account.username,
        **membership_view(account.memberships[queue]),
        "state": agent.state.value if agent is not None else None,
        "time_in_state_seconds": max(0.0, now - agent.state_since) if agent is not None else None,
        "call_id": agent.call_id if agent is not None else None,
    }


def agent_state_view(agent: Agent) -> dict[str, Any]:
    """The reply to a state request: where the agent is, and what applies after its call."""
    return {
        "agent": agent.agent_id,
        "state": agent.state.value,
        "pending_state": agent.pending_state.value if agent.pending_state else None,
        "reason": agent.reason,
        "pending_reason": agent.pending_reason,
    }


def queue_view(acd: Acd, name: str, now: float) -> dict[str, Any]:
    """Totals since start; service level, ASA and AHT over the last hour."""
    snapshot = acd.snapshot(name)
    figures = acd.statistics(name).window(now, QUEUE_WINDOW_SECONDS)
    return {
        "name": name,
        "waiting": snapshot.waiting,
        "longest_wait_seconds": snapshot.longest_wait_seconds,
        "agents": {state.value: count for state, count in snapshot.agents.items()},
        "offered": snapshot.offered_total,
        "answered": snapshot.answered_total,
        "abandoned": snapshot.abandoned_total,
        "service_level": figures.service_level,
        "service_level_target": snapshot.service_level_target,
        "service_level_seconds": snapshot.service_level_seconds,
        "asa_seconds": figures.asa_seconds,
        "aht_seconds": figures.aht_seconds,
    }


def call_view(record: CallRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "caller": record.caller,
        "employee": record.employee_username,
        "queue": record.queue,
        "agent": record.agent,
        "outcome": record.outcome.value,
        "arrived_at": iso(record.arrived_at),
        "enqueued_at": iso(record.enqueued_at),
        "answered_at": iso(record.answered_at),
        "ended_at": iso(record.ended_at),
        "pickup_latency_seconds": record.pickup_latency_seconds,
        "ticket_id": record.ticket_id,
        "transfer_target": record.transfer_target,
        "media": dict(record.media),
        "disposition": record.disposition,
        "ivr_outcome": record.ivr_outcome,
        "ivr": dict(record.ivr_attributes),
    }


def event_view(entry: AcdEventEntry) -> dict[str, Any]:
    return {
        "at": iso(entry.at),
        "type": entry.type,
        "queue": entry.queue,
        "agent": entry.agent,
        "data": entry.data,
    }


def ticket_view(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "kind": ticket.kind,
        "status": ticket.status.value,
        "priority": ticket.priority,
        "subject": ticket.subject,
        "employee_id": ticket.employee_id,
        "device_id": ticket.device_id,
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "call_ids": list(ticket.call_ids),
    }


def article_view(article: Article, score: float | None = None) -> dict[str, Any]:
    """An article; `score` (relevance, higher is better) only in search results."""
    view: dict[str, Any] = {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "category": article.category,
        "models": list(article.models),
        "software": list(article.software),
        "use_count": article.use_count,
        "author": article.author,
        "created_at": iso(article.created_at),
        "updated_at": iso(article.updated_at),
    }
    if score is not None:
        view["score"] = score
    return view


def suggestion_view(suggestion: Suggestion) -> dict[str, Any]:
    """What a console lists: enough to pick an article and open it by id."""
    article = suggestion.article
    return {
        "id": article.id,
        "title": article.title,
        "category": article.category,
        "use_count": article.use_count,
        "reason": suggestion.reason,
    }
