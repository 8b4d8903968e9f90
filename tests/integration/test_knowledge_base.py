"""The knowledge base on real databases: FTS5 on SQLite, tsvector on PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from callcenter.db import models
from callcenter.db.engine import make_engine
from callcenter.db.migrate import migrate_to, upgrade
from callcenter.knowledge.store import (
    ArticleDraft,
    ArticleSort,
    SqlKnowledgeBase,
    query_terms,
)
from callcenter.tickets.records import TicketStatus
from callcenter.tickets.store import SqlTicketStore

T0 = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
JAM = "Printer shows a paper jam but no paper is stuck"
QUEUE = "Cannot print: the print queue is stuck"
THINKPAD = "ThinkPad does not charge or turn on"
SLOW = "Desktop is slow after starting up"


@pytest.fixture
def kb(demo_store: SqlTicketStore) -> SqlKnowledgeBase:
    return SqlKnowledgeBase(demo_store)


async def _employee_id(store: SqlTicketStore, username: str) -> int:
    employee = await store.employee_by_username(username)
    assert employee is not None
    return employee.id


async def _ticket_of(store: SqlTicketStore, username: str) -> tuple[str, int]:
    """A call of the employee and the incident it opened."""
    employee_id = await _employee_id(store, username)
    call_id = str(uuid.uuid4())
    await store.open_call_record(call_id, None, "+862088881001", employee_id, T0)
    ticket_id = await store.attach_call_to_incident(call_id, employee_id, T0, 8.0)
    return call_id, ticket_id


def test_query_terms_are_plain_distinct_words() -> None:
    assert query_terms('Paper "jam" OR* NEAR(x) paper: -- a') == ["paper", "jam", "or", "near"]
    assert query_terms("打印机 卡纸") == ["打印机", "卡纸"]
    assert query_terms("' \" * ( ) :") == []


async def test_search_ranks_title_matches_first(kb: SqlKnowledgeBase) -> None:
    page = await kb.search("print")
    titles = [article.title for article in page.articles]
    # "print" as a prefix: both printing articles; the one saying it in its title
    # ("Printer", "print queue" twice) ranks first.
    assert set(titles[:2]) == {JAM, QUEUE}
    assert page.total == len(titles) >= 2
    scores = [page.scores[article.id] for article in page.articles]
    assert scores == sorted(scores, reverse=True)

    page = await kb.search("paper jam")
    assert [a.title for a in page.articles] == [JAM]
    # Every word must match.
    assert (await kb.search("paper outlook")).total == 0


async def test_search_sees_models_and_software_and_survives_any_input(
    kb: SqlKnowledgeBase,
) -> None:
    assert [a.title for a in (await kb.search("ThinkPad T14")).articles] == [THINKPAD]
    assert [a.title for a in (await kb.search("optiplex")).articles] == [SLOW]
    nasty_queries = ['"', "jam OR", "NEAR(", "*", "a:* & !", "the", "and or not", "x" * 200]
    for nasty in [*nasty_queries, "'; DROP TABLE kb_article; --", ""]:
        page = await kb.search(nasty)
        assert page.total == len(page.articles)
    assert (await kb.search("")).total == 0


async def test_listing_filters_sorts_and_pages(kb: SqlKnowledgeBase) -> None:
    everything = await kb.search()
    titles = [a.title for a in everything.articles]
    assert titles == sorted(titles) and everything.total == 5 and everything.scores == {}

    printing = await kb.search(category="printing")
    assert {a.title for a in printing.articles} == {JAM, QUEUE}
    assert [a.title for a in (await kb.search(model="latitude 7440")).articles] == []
    assert [a.title for a in (await kb.search(model="laserjet pro m404dn")).articles] == [JAM]

    page = await kb.search(limit=2, offset=2)
    assert [a.title for a in page.articles] == titles[2:4] and page.total == 5
    page = await kb.search("print", sort=ArticleSort.TITLE)
    assert [a.title for a in page.articles] == sorted([JAM, QUEUE])


async def test_create_and_update_keep_the_index_in_step(kb: SqlKnowledgeBase) -> None:
    article = await kb.create(
        ArticleDraft(
            "VPN drops every hour",
            "Renew the certificate in the VPN client.",
            "network",
            software=("AnyConnect",),
        ),
        author="sue",
        now=T0,
    )
    assert (article.title, article.software, article.models, article.use_count) == (
        "VPN drops every hour",
        ("AnyConnect",),
        (),
        0,
    )
    assert [a.id for a in (await kb.search("anyconnect")).articles] == [article.id]

    later = T0 + timedelta(hours=1)
    changed = await kb.update(
        article.id,
        {"title": "Remote access fails every hour", "software": ["GlobalProtect"]},
        now=later,
    )
    assert changed is not None
    assert (changed.title, changed.software, changed.updated_at) == (
        "Remote access fails every hour",
        ("GlobalProtect",),
        later,
    )
    assert (await kb.search("anyconnect")).total == 0
    assert (await kb.search("drops")).total == 0  # the old title is gone from the index
    assert (await kb.search("vpn certificate")).total == 1  # the body stayed
    assert [a.id for a in (await kb.search("globalprotect remote")).articles] == [article.id]
    assert await kb.update(10**6, {"title": "x"}, now=later) is None
    assert await kb.article(10**6) is None


async def test_suggestions_for_a_callers_devices(
    kb: SqlKnowledgeBase, demo_store: SqlTicketStore
) -> None:
    # Zhang San has a ThinkCentre desktop and a LaserJet printer.
    zhang = await _employee_id(demo_store, "zhangsanKJC")
    titles = {s.article.title for s in await kb.suggest_for_employee(zhang)}
    assert titles == {JAM, SLOW}
    li = await _employee_id(demo_store, "lisiKJC")
    assert [s.article.title for s in await kb.suggest_for_employee(li)] == [THINKPAD]
    assert await kb.suggest_for_employee(10**6) == []


async def test_suggestions_for_a_ticket_add_its_text(
    kb: SqlKnowledgeBase, demo_store: SqlTicketStore
) -> None:
    call_id, ticket_id = await _ticket_of(demo_store, "lisiKJC")
    await demo_store.save_wrap_up(
        call_id, author="alice", now=T0, subject="Outlook keeps asking for the password"
    )
    suggestions = await kb.suggest_for_ticket(ticket_id)
    assert suggestions is not None
    # Her laptop's article first, then what the ticket's words match best.
    assert [(s.article.title, s.reason) for s in suggestions][:2] == [
        (THINKPAD, "model"),
        ("Outlook asks for the password again and again", "text"),
    ]
    assert len({s.article.id for s in suggestions}) == len(suggestions)
    assert await kb.suggest_for_ticket(10**6) is None


async def test_use_counts_once_per_ticket(kb: SqlKnowledgeBase, demo_store: SqlTicketStore) -> None:
    jam = (await kb.search("paper jam")).articles[0]
    call_id, ticket_id = await _ticket_of(demo_store, "zhangsanKJC")
    _, other_ticket = await _ticket_of(demo_store, "zhaoliuCGS")

    with pytest.raises(ValueError, match="resolved or closed"):
        await demo_store.save_wrap_up(call_id, author="alice", now=T0, kb_article_id=jam.id)
    with pytest.raises(ValueError, match="no knowledge-base article"):
        await demo_store.save_wrap_up(
            call_id, author="alice", now=T0, status=TicketStatus.RESOLVED, kb_article_id=10**6
        )
    await demo_store.save_wrap_up(
        call_id, author="alice", now=T0, status=TicketStatus.RESOLVED, kb_article_id=jam.id
    )
    assert await kb.record_use(jam.id, ticket_id, T0) is False  # that ticket counted already
    assert await kb.record_use(jam.id, other_ticket, T0) is True
    article = await kb.article(jam.id)
    assert article is not None and article.use_count == 2
    trail = await demo_store.ticket_audit(ticket_id)
    assert [(e.field, e.new) for e in trail if e.field == "kb_article"] == [
        ("kb_article", str(jam.id))
    ]
    with pytest.raises(LookupError, match="no ticket"):
        await kb.record_use(jam.id, 10**6, T0)
    with pytest.raises(LookupError, match="no knowledge-base article"):
        await kb.record_use(10**6, ticket_id, T0)

    async with demo_store.write_transaction() as session:
        uses = (await session.execute(select(models.KbArticleUse.ticket_id))).scalars().all()
    assert sorted(uses) == sorted([ticket_id, other_ticket])
    # Most used first.
    assert (await kb.search(sort=ArticleSort.USE_COUNT)).articles[0].id == jam.id


def _search_objects(connection: Connection) -> tuple[set[str], set[str]]:
    """The knowledge base's tables, and the full-text objects of this database."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    found = {name for name in tables if name.startswith("kb_article_fts")}
    if "kb_article" in tables:
        found |= {c["name"] for c in inspector.get_columns("kb_article")} & {"search_vector"}
        found |= {i["name"] or "" for i in inspector.get_indexes("kb_article")} & {
            "ix_kb_article_search_vector"
        }
    return {name for name in tables if name.startswith("kb_")} - found, found


async def test_migration_0005_builds_the_index_of_its_database_and_goes_back(
    database_url: str,
) -> None:
    await upgrade(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            tables, search = await connection.run_sync(_search_objects)
            assert tables == {"kb_article", "kb_article_target", "kb_article_use"}
            if engine.dialect.name == "sqlite":
                assert "kb_article_fts" in search and "search_vector" not in search
            else:
                assert search == {"search_vector", "ix_kb_article_search_vector"}
            await connection.run_sync(migrate_to, "0004", True)
            assert await connection.run_sync(_search_objects) == (set(), set())
            await connection.run_sync(migrate_to, "head")
            assert (await connection.run_sync(_search_objects))[1] == search
    finally:
        await engine.dispose()
