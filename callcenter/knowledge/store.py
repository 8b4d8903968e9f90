"""The knowledge base: articles, full-text search and suggestions for the agent on a call.

Search is the database's own full-text index behind one interface (`ArticleSearch`):
SQLite's FTS5 (bm25 ranking) or PostgreSQL's `tsvector` (`ts_rank_cd`), picked by the
engine's dialect. Both see an article's title, the models and software it applies to, its
category and body, in that order of weight. Words of the query are taken as prefixes
(`print` finds "printer"); free text from a caller is reduced to plain words before it
reaches either query language, so no input can be a syntax error.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import ColumnElement, Select, column, func, literal_column, select, table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.expression import FromClause

from callcenter.db import models

if TYPE_CHECKING:  # the store counts uses through `count_use`: no import cycle at run time
    from callcenter.tickets.store import SqlTicketStore

#: More query words than this add nothing but cost; a ticket's text is cut to them.
MAX_TERMS = 24
#: Shorter words ("a", "is") match too much to mean anything as prefixes.
MIN_TERM_LENGTH = 2
_WORD = re.compile(r"\w+", re.UNICODE)


class TargetKind(StrEnum):
    """What an article applies to."""

    MODEL = "model"
    SOFTWARE = "software"


class ArticleSort(StrEnum):
    """Orders of a listing; a search without one is ranked by relevance."""

    TITLE = "title"
    USE_COUNT = "-use_count"
    UPDATED = "-updated_at"
    CREATED = "created_at"


@dataclass(frozen=True)
class Article:
    id: int
    title: str
    body: str
    category: str
    models: tuple[str, ...]
    software: tuple[str, ...]
    use_count: int
    author: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ArticleDraft:
    """An article's content as an author writes it (all fields for a new one)."""

    title: str
    body: str
    category: str
    models: tuple[str, ...] = ()
    software: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticlePage:
    """One page of a listing or search, with the total it was cut from."""

    articles: list[Article]
    total: int
    #: Relevance per article id, higher is better; empty for a listing without a query.
    scores: Mapping[int, float]


@dataclass(frozen=True)
class Suggestion:
    """An article worth showing the agent, and why it came up."""

    article: Article
    #: "model" (applies to one of the caller's devices) or "text" (matches the ticket).
    reason: str


def query_terms(text: str, limit: int = MAX_TERMS) -> list[str]:
    """The distinct plain words of `text`, lower case, in order, at most `limit`."""
    words = (word.lower() for word in _WORD.findall(text))
    kept = [word for word in dict.fromkeys(words) if len(word) >= MIN_TERM_LENGTH]
    return kept[:limit]


class ArticleSearch(Protocol):
    """Full-text matching of one database: the ids of matching articles and their scores."""

    def matches(self, terms: Sequence[str], *, any_term: bool) -> FromClause:
        """A subquery of `(id, score)`, score higher for better matches.

        `any_term`: an article matching one of the words is a hit (suggestions from a
        ticket's text); otherwise it must match all of them (a search box).
        """
        ...


class Fts5Search:
    """SQLite: the FTS5 table `kb_article_fts`, ranked by bm25 with per-column weights."""

    #: Weights of the FTS5 columns in their order: title, applies_text, category, body.
    WEIGHTS = (10.0, 5.0, 2.0, 1.0)
    _fts = table("kb_article_fts", column("rowid"))

    def matches(self, terms: Sequence[str], *, any_term: bool) -> FromClause:
        expression = (" OR " if any_term else " AND ").join(f'"{term}"*' for term in terms)
        bm25 = func.bm25(literal_column("kb_article_fts"), *self.WEIGHTS)
        return (
            select(
                self._fts.c.rowid.label("id"),
                (-bm25).label("score"),
            )
            .select_from(self._fts)
            .where(literal_column("kb_article_fts").op("MATCH")(expression))
            .subquery("hits")
        )


class PostgresSearch:
    """PostgreSQL: the generated `search_vector` column, ranked by `ts_rank_cd`."""

    CONFIG = "english"

    def matches(self, terms: Sequence[str], *, any_term: bool) -> FromClause:
        expression = (" | " if any_term else " & ").join(f"{term}:*" for term in terms)
        query = func.to_tsquery(literal_column(f"'{self.CONFIG}'"), expression)
        vector: ColumnElement[Any] = literal_column("kb_article.search_vector")
        return (
            select(models.KbArticle.id.label("id"), func.ts_rank_cd(vector, query).label("score"))
            .where(vector.op("@@")(query))
            .subquery("hits")
        )


def search_for(dialect: str) -> ArticleSearch:
    """The full-text implementation the migrations built for this database."""
    if dialect == "sqlite":
        return Fts5Search()
    if dialect == "postgresql":
        return PostgresSearch()
    raise ValueError(f"no full-text search for the {dialect} database")


class SqlKnowledgeBase:
    """Articles in the ticket database, next to the tickets and devices they relate to."""

    def __init__(self, store: SqlTicketStore) -> None:
        self._store = store
        self._sessions = async_sessionmaker(store.engine, expire_on_commit=False)
        self._search = search_for(store.engine.dialect.name)

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session, session.begin():
            yield session

    # -- articles ------------------------------------------------------------------------

    async def article(self, article_id: int) -> Article | None:
        async with self._read() as session:
            row = await session.scalar(_article_query().where(models.KbArticle.id == article_id))
            return None if row is None else _article(row)

    async def create(self, draft: ArticleDraft, *, author: str | None, now: datetime) -> Article:
        async with self._store.write_transaction() as session:
            row = models.KbArticle(
                title=draft.title,
                body=draft.body,
                category=draft.category,
                author=author,
                use_count=0,
                created_at=now,
                updated_at=now,
            )
            set_targets(row, draft.models, draft.software)
            session.add(row)
            await session.flush()
            return await _reload(session, row.id)

    async def update(
        self, article_id: int, changes: Mapping[str, Any], *, now: datetime
    ) -> Article | None:
        """Change the given fields (`title`, `body`, `category`, `models`, `software`);
        None: no such article."""
        async with self._store.write_transaction() as session:
            row = await session.scalar(
                _article_query().where(models.KbArticle.id == article_id).with_for_update()
            )
            if row is None:
                return None
            for name in ("title", "body", "category"):
                if name in changes:
                    setattr(row, name, changes[name])
            if "models" in changes or "software" in changes:
                current = _article(row)
                set_targets(
                    row,
                    changes.get("models", current.models),
                    changes.get("software", current.software),
                )
            row.updated_at = now
            await session.flush()
            return await _reload(session, row.id)

    async def search(
        self,
        text: str | None = None,
        *,
        category: str | None = None,
        model: str | None = None,
        sort: ArticleSort | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> ArticlePage:
        """A page of articles: matching `text` (ranked, unless `sort` says otherwise), of the
        category, applying to the model. Text without a searchable word matches nothing."""
        query: Select[Any] = select(models.KbArticle.id)
        score: ColumnElement[Any] | None = None
        if text is not None:
            terms = query_terms(text)
            if not terms:
                return ArticlePage([], 0, {})
            hits = self._search.matches(terms, any_term=False)
            query = query.join(hits, hits.c.id == models.KbArticle.id).add_columns(hits.c.score)
            score = hits.c.score
        if category is not None:
            query = query.where(models.KbArticle.category == category)
        if model is not None:
            query = query.where(
                models.KbArticle.id.in_(
                    select(models.KbArticleTarget.article_id).where(
                        models.KbArticleTarget.name_key == model.strip().lower()
                    )
                )
            )
        async with self._read() as session:
            total = int(
                await session.scalar(select(func.count()).select_from(query.subquery())) or 0
            )
            ordered = query.order_by(*_order(sort, score)).limit(limit).offset(offset)
            rows = (await session.execute(ordered)).all()
            ids = [row[0] for row in rows]
            scores = {row[0]: float(row[1]) for row in rows} if score is not None else {}
            return ArticlePage(await _articles(session, ids), total, scores)

    # -- suggestions -----------------------------------------------------------------

    async def suggest_for_employee(self, employee_id: int, limit: int = 5) -> list[Suggestion]:
        """Articles for the models of the employee's devices, most used first."""
        async with self._read() as session:
            device_models = await _models_of(
                session, models.Device.owner_employee_id == employee_id
            )
            ids = await _for_models(session, device_models, limit)
            return [Suggestion(a, TargetKind.MODEL.value) for a in await _articles(session, ids)]

    async def suggest_for_ticket(self, ticket_id: int, limit: int = 5) -> list[Suggestion] | None:
        """Articles for the ticket's device (or, without one, its employee's devices), then
        the best matches of its subject and description; None: no such ticket."""
        async with self._read() as session:
            ticket = await session.get(models.Ticket, ticket_id)
            if ticket is None:
                return None
            if ticket.device_id is not None:
                where = models.Device.id == ticket.device_id
            elif ticket.employee_id is not None:
                where = models.Device.owner_employee_id == ticket.employee_id
            else:
                where = None
            by_model = (
                await _for_models(session, await _models_of(session, where), limit)
                if where is not None
                else []
            )
            found = [(article_id, TargetKind.MODEL.value) for article_id in by_model]
            terms = query_terms(f"{ticket.subject} {_own_text(ticket.description)}")
            if terms and len(found) < limit:
                hits = self._search.matches(terms, any_term=True)
                rows = await session.execute(
                    select(hits.c.id)
                    .where(hits.c.id.not_in(by_model) if by_model else hits.c.id.is_not(None))
                    .order_by(hits.c.score.desc(), hits.c.id)
                    .limit(limit - len(found))
                )
                found += [(article_id, "text") for (article_id,) in rows]
            articles = {a.id: a for a in await _articles(session, [i for i, _ in found])}
            return [Suggestion(articles[i], reason) for i, reason in found if i in articles]

    # -- use -------------------------------------------------------------------------

    async def record_use(self, article_id: int, ticket_id: int, now: datetime) -> bool:
        """The article solved the ticket; False if that was counted already. Unknown article
        or ticket: LookupError."""
        async with self._store.write_transaction() as session:
            return await count_use(session, article_id, ticket_id, now)


async def count_use(session: AsyncSession, article_id: int, ticket_id: int, now: datetime) -> bool:
    """Count the article's use for the ticket once (the use row's key makes it once, across
    processes too); True if this call counted it. Unknown article or ticket: LookupError."""
    if await session.get(models.KbArticle, article_id) is None:
        raise LookupError(f"no knowledge-base article {article_id}")
    if await session.get(models.Ticket, ticket_id) is None:
        raise LookupError(f"no ticket {ticket_id}")
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = (
        await session.execute(
            module.insert(models.KbArticleUse)
            .values(article_id=article_id, ticket_id=ticket_id, used_at=now)
            .on_conflict_do_nothing()
            .returning(models.KbArticleUse.article_id)
        )
    ).first()
    if inserted is None:
        return False
    await session.execute(
        update(models.KbArticle)
        .where(models.KbArticle.id == article_id)
        .values(use_count=models.KbArticle.use_count + 1)
    )
    return True


# -- queries and row conversion ----------------------------------------------------------


def _article_query() -> Select[models.KbArticle]:
    return select(models.KbArticle).options(selectinload(models.KbArticle.targets))


def _order(sort: ArticleSort | None, score: ColumnElement[Any] | None) -> list[Any]:
    if sort is None:
        sort = None if score is not None else ArticleSort.TITLE
    article = models.KbArticle
    match sort:
        case None:
            assert score is not None
            return [score.desc(), article.id]
        case ArticleSort.TITLE:
            return [article.title, article.id]
        case ArticleSort.USE_COUNT:
            return [article.use_count.desc(), article.title, article.id]
        case ArticleSort.UPDATED:
            return [article.updated_at.desc(), article.id.desc()]
        case ArticleSort.CREATED:
            return [article.created_at, article.id]


async def _articles(session: AsyncSession, ids: Sequence[int]) -> list[Article]:
    """The articles in the order of `ids`."""
    if not ids:
        return []
    rows = await session.scalars(_article_query().where(models.KbArticle.id.in_(ids)))
    by_id = {row.id: _article(row) for row in rows}
    return [by_id[i] for i in ids if i in by_id]


async def _reload(session: AsyncSession, article_id: int) -> Article:
    row = await session.scalar(
        _article_query()
        .where(models.KbArticle.id == article_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return _article(row)


async def _models_of(session: AsyncSession, where: ColumnElement[bool]) -> list[str]:
    found = await session.scalars(
        select(models.Device.model).where(where, models.Device.model.is_not(None))
    )
    return sorted({name.strip().lower() for name in found if name and name.strip()})


async def _for_models(session: AsyncSession, keys: Sequence[str], limit: int) -> list[int]:
    if not keys:
        return []
    rows = await session.scalars(
        select(models.KbArticle.id)
        .where(
            models.KbArticle.id.in_(
                select(models.KbArticleTarget.article_id).where(
                    models.KbArticleTarget.kind == TargetKind.MODEL.value,
                    models.KbArticleTarget.name_key.in_(keys),
                )
            )
        )
        .order_by(models.KbArticle.use_count.desc(), models.KbArticle.title, models.KbArticle.id)
        .limit(limit)
    )
    return list(rows)


def _own_text(description: str) -> str:
    """A ticket's description without the signed entry headers the desk appends
    (`[2025-03-10T09:00:00+00:00 wrap-up by alice]`): they would match every article."""
    return re.sub(r"\[[^\]]*\]", " ", description)


def set_targets(row: models.KbArticle, names: Iterable[str], software: Iterable[str]) -> None:
    """Replace what the article applies to, and the index text that mirrors it."""
    targets: dict[tuple[str, str], models.KbArticleTarget] = {}
    for kind, values in ((TargetKind.MODEL, names), (TargetKind.SOFTWARE, software)):
        for value in values:
            name = value.strip()
            if name:
                targets.setdefault(
                    (kind.value, name.lower()),
                    models.KbArticleTarget(kind=kind.value, name=name, name_key=name.lower()),
                )
    row.targets = list(targets.values())
    row.applies_text = " ".join(target.name for target in row.targets)


def _article(row: models.KbArticle) -> Article:
    return Article(
        id=row.id,
        title=row.title,
        body=row.body,
        category=row.category,
        models=tuple(t.name for t in row.targets if t.kind == TargetKind.MODEL.value),
        software=tuple(t.name for t in row.targets if t.kind == TargetKind.SOFTWARE.value),
        use_count=row.use_count,
        author=row.author,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
