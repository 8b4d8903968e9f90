"""The knowledge base under /api/v1/kb: articles, search, suggestions, counted uses.

Everyone with a token reads and searches, and may say an article solved a ticket;
supervisors and admins write articles. Client errors are problem details (RFC 9457)
naming the field at fault.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callcenter.api.auth import principal, supervises
from callcenter.api.bodies import (
    ArticleBody,
    ArticlePatchBody,
    ArticleUseBody,
    id_param,
    int_param,
    parse_body,
)
from callcenter.api.deps import DEPS, MAX_ID, now_of
from callcenter.api.errors import ApiError, problem_details
from callcenter.api.views import article_view, suggestion_view
from callcenter.knowledge.store import ArticleDraft, ArticleSort, SqlKnowledgeBase

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
MAX_SUGGESTIONS = 20
#: A search box, not a document: longer queries are a client's mistake.
MAX_QUERY_LENGTH = 200


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/kb/articles", list_articles)
    app.router.add_post("/api/v1/kb/articles", create_article)
    app.router.add_get("/api/v1/kb/articles/{article_id}", get_article)
    app.router.add_patch("/api/v1/kb/articles/{article_id}", update_article)
    app.router.add_post("/api/v1/kb/articles/{article_id}/uses", record_use)
    app.router.add_get("/api/v1/kb/suggestions", suggestions)


def _kb(request: web.Request) -> SqlKnowledgeBase:
    kb = request.app[DEPS].kb
    if kb is None:
        raise ApiError(503, "kb_unavailable", "the knowledge base is not available")
    return kb


def _writer(request: web.Request) -> str:
    who = principal(request)
    if not supervises(who):
        raise ApiError(403, "forbidden", "only supervisors and admins write articles")
    return who.username


def _text_param(request: web.Request, name: str, maximum: int) -> str | None:
    value = request.query.get(name)
    if value is not None and len(value) > maximum:
        raise ApiError(400, "invalid_query", f"{name}: at most {maximum} characters", field=name)
    return value


def _article_id(request: web.Request) -> int:
    article_id = id_param(request, "article_id")
    return article_id if article_id <= MAX_ID else 0


@problem_details
async def list_articles(request: web.Request) -> web.Response:
    """`q` searches (ranked by relevance unless `sort` is given); `category` and `model`
    filter; `sort` is one of `ArticleSort`; `limit` and `offset` page."""
    kb = _kb(request)
    raw_sort = request.query.get("sort")
    try:
        sort = ArticleSort(raw_sort) if raw_sort is not None else None
    except ValueError:
        choices = ", ".join(s.value for s in ArticleSort)
        raise ApiError(
            400, "invalid_query", f"sort: must be one of {choices}", field="sort"
        ) from None
    limit = int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
    text = _text_param(request, "q", MAX_QUERY_LENGTH)
    page = await kb.search(
        text,
        category=_text_param(request, "category", 64),
        model=_text_param(request, "model", 200),
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return web.json_response(
        {
            "articles": [article_view(a, page.scores.get(a.id)) for a in page.articles],
            "total": page.total,
            "limit": limit,
            "offset": offset,
        }
    )


@problem_details
async def get_article(request: web.Request) -> web.Response:
    kb = _kb(request)
    article_id = _article_id(request)
    article = await kb.article(article_id)
    if article is None:
        raise ApiError(404, "unknown_article", f"no article {article_id}", field="article_id")
    return web.json_response(article_view(article))


@problem_details
async def create_article(request: web.Request) -> web.Response:
    kb = _kb(request)
    author = _writer(request)
    body = await parse_body(request, ArticleBody)
    draft = ArticleDraft(
        body.title, body.body, body.category, tuple(body.models), tuple(body.software)
    )
    article = await kb.create(draft, author=author, now=now_of(request))
    return web.json_response(
        article_view(article),
        status=201,
        headers={"Location": f"/api/v1/kb/articles/{article.id}"},
    )


@problem_details
async def update_article(request: web.Request) -> web.Response:
    kb = _kb(request)
    _writer(request)
    article_id = _article_id(request)
    body = await parse_body(request, ArticlePatchBody)
    changes: dict[str, Any] = {}
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None:
            raise ApiError(400, "invalid_body", f"{name}: may not be null", field=name)
        changes[name] = tuple(value) if isinstance(value, list) else value
    article = await kb.update(article_id, changes, now=now_of(request))
    if article is None:
        raise ApiError(404, "unknown_article", f"no article {article_id}", field="article_id")
    return web.json_response(article_view(article))


@problem_details
async def record_use(request: web.Request) -> web.Response:
    """ "This article solved ticket N": 201 when counted, 200 when that ticket was already."""
    kb = _kb(request)
    article_id = _article_id(request)
    body = await parse_body(request, ArticleUseBody)
    try:
        counted = await kb.record_use(article_id, body.ticket_id, now_of(request))
    except LookupError as exc:
        message = str(exc).strip("'\"")
        if message.startswith("no ticket"):
            raise ApiError(404, "unknown_ticket", message, field="ticket_id") from None
        raise ApiError(404, "unknown_article", message, field="article_id") from None
    article = await kb.article(article_id)
    assert article is not None
    return web.json_response(
        {"counted": counted, "article": article_view(article)}, status=201 if counted else 200
    )


@problem_details
async def suggestions(request: web.Request) -> web.Response:
    """For exactly one of `employee_id` (their devices' models) or `ticket_id` (its device
    and its text)."""
    kb = _kb(request)
    limit = int_param(request, "limit", 5, 1, MAX_SUGGESTIONS)
    given = [name for name in ("employee_id", "ticket_id") if name in request.query]
    if len(given) != 1:
        raise ApiError(
            400,
            "invalid_query",
            "employee_id or ticket_id: give exactly one",
            field=given[-1] if given else "employee_id",
        )
    name = given[0]
    wanted = int_param(request, name, 0, 1, MAX_ID)
    if name == "employee_id":
        found = await kb.suggest_for_employee(wanted, limit)
    else:
        by_ticket = await kb.suggest_for_ticket(wanted, limit)
        if by_ticket is None:
            raise ApiError(404, "unknown_ticket", f"no ticket {wanted}", field="ticket_id")
        found = by_ticket
    return web.json_response({"suggestions": [suggestion_view(s) for s in found]})
