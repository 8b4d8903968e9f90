"""The monthly client report as files: `report.html`, its PNG charts beside it, and one
CSV per table, for the client's own spreadsheets.

The HTML is self-contained in its directory (no script, no CDN); every value from the
database is escaped.
"""

from __future__ import annotations

import csv
import html
from collections.abc import Sequence
from pathlib import Path

from callcenter.problems.model import ResolutionShare
from callcenter.reports.model import (
    WARRANTY_HORIZON_DAYS,
    MonthlyReport,
    warranty_window,
)

HTML = "report.html"
CSV_FILES = (
    "requests_per_month.csv",
    "requests_per_category.csv",
    "service_level.csv",
    "first_contact.csv",
    "sla_compliance.csv",
    "time_to_resolve.csv",
    "top_faults_items.csv",
    "top_faults_models.csv",
    "warranty_ending.csv",
)
CHARTS = ("requests_per_month.png", "requests_per_category.png", "sla_compliance.png")

Row = Sequence[object]


def write(report: MonthlyReport, out: Path) -> list[Path]:
    """Write the report's files into `out` (created if missing); returns them."""
    out.mkdir(parents=True, exist_ok=True)
    tables = csv_tables(report)
    written = []
    for name, (header, rows) in tables.items():
        path = out / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([_cell(v) for v in row] for row in rows)
        written.append(path)
    written += charts(report, out)
    page = out / HTML
    page.write_text(html_page(report), encoding="utf-8")
    written.append(page)
    return written


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _number(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


#: A text cell starting with one of these is a formula to a spreadsheet (OWASP, CSV
#: injection): a category `=HYPERLINK(...)` would arrive live in the client's report.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """CSV cells: '' for None, ratios with four decimals, text never a formula."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # shown as text, the quote hidden by the spreadsheet
    return value


def _resolution_row(share: ResolutionShare) -> Row:
    return (share.measure, share.solved_first_time, share.counted, share.share, share.target)


def csv_tables(report: MonthlyReport) -> dict[str, tuple[Row, list[Row]]]:
    """File name -> (header, rows), in the order of CSV_FILES."""
    sl = report.service_level
    rt = report.resolve_time
    tables: dict[str, tuple[Row, list[Row]]] = {
        "requests_per_month.csv": (("month", "requests"), list(report.requests_per_month)),
        "requests_per_category.csv": (("category", "requests"), list(report.requests_per_category)),
        "service_level.csv": (
            ("offered", "answered", "answered_within_threshold", "service_level"),
            [(sl.offered, sl.answered, sl.answered_within, sl.share)],
        ),
        "first_contact.csv": (
            ("measure", "solved_first_time", "counted", "share", "target"),
            [_resolution_row(report.first_contact), _resolution_row(report.first_visit)],
        ),
        "sla_compliance.csv": (
            ("clock", "met", "breached", "open", "compliance"),
            [(s.kind, s.met, s.breached, s.open, s.share) for s in report.sla],
        ),
        "time_to_resolve.csv": (
            ("resolved", "mean_hours", "p90_hours"),
            [(rt.resolved, rt.mean_hours, rt.p90_hours)],
        ),
        "top_faults_items.csv": (("item", "tickets"), list(report.top_items)),
        "top_faults_models.csv": (("model", "tickets"), list(report.top_models)),
        "warranty_ending.csv": (
            ("asset_tag", "name", "type", "model", "owner", "warranty_end"),
            [
                (a.asset_tag, a.name, a.type, a.model, a.owner, a.warranty_end.isoformat())
                for a in report.warranty_ending
            ],
        ),
    }
    assert tuple(tables) == CSV_FILES
    return tables


def charts(report: MonthlyReport, out: Path) -> list[Path]:
    """The PNG charts (matplotlib's Agg canvas: no display, no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    paths = []

    def bars(name: str, title: str, labels: list[str], values: list[int], horizontal: bool) -> None:
        figure = Figure(figsize=(8, 4))
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        if horizontal:
            axes.barh(labels[::-1], values[::-1], color="tab:blue")
            axes.set_xlabel("requests")
        else:
            axes.bar(labels, values, color="tab:blue")
            axes.set_ylabel("requests")
            axes.tick_params(axis="x", labelrotation=45)
        axes.set_title(title)
        axes.grid(alpha=0.3)
        figure.tight_layout()
        path = out / name
        figure.savefig(path, format="png", dpi=100)
        paths.append(path)

    months = report.requests_per_month
    bars(
        "requests_per_month.png",
        "Requests per month",
        [m for m, _ in months],
        [n for _, n in months],
        horizontal=False,
    )
    categories = report.requests_per_category[:12]
    bars(
        "requests_per_category.png",
        f"Requests per category, {report.month}",
        [c for c, _ in categories] or ["(no requests)"],
        [n for _, n in categories] or [0],
        horizontal=True,
    )
    figure = Figure(figsize=(8, 3.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    kinds = [s.kind for s in report.sla] or ["(no clocks)"]
    met = [s.met for s in report.sla] or [0]
    breached = [s.breached for s in report.sla] or [0]
    still_open = [s.open for s in report.sla] or [0]
    axes.barh(kinds, met, color="tab:green", label="met")
    axes.barh(kinds, breached, left=met, color="tab:red", label="breached")
    axes.barh(
        kinds,
        still_open,
        left=[m + b for m, b in zip(met, breached, strict=True)],
        color="tab:gray",
        label="open",
    )
    axes.set_title(f"SLA clocks of the month's tickets, {report.month}")
    axes.set_xlabel("clocks")
    axes.legend(loc="lower right")
    figure.tight_layout()
    path = out / "sla_compliance.png"
    figure.savefig(path, format="png", dpi=100)
    paths.append(path)
    return paths


def _table(header: Row, rows: Sequence[Row], empty: str = "none") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    if not rows:
        return f'<table><tr>{head}</tr><tr><td colspan="{len(header)}">{empty}</td></tr></table>'
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _target_row(name: str, share: ResolutionShare) -> Row:
    verdict = {None: "no evidence", True: "met", False: "missed"}[share.met]
    return (
        name,
        f"{share.solved_first_time} / {share.counted}",
        _share(share.share),
        f"{share.target:.0%}",
        verdict,
    )


STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 60em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; }
th { background: #eee; }
img { max-width: 100%; }
"""


def html_page(report: MonthlyReport) -> str:
    e = html.escape
    sl = report.service_level
    rt = report.resolve_time
    first_day, last_day = warranty_window(report.month)
    title = f"Monthly service report: {report.organisation}, {report.month}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        "<h2>Requests</h2>",
        f"<p>{report.requests} requests opened in {report.month}.</p>",
        '<img src="requests_per_month.png" alt="Requests per month, last 12 months">',
        _table(("month", "requests"), report.requests_per_month),
        '<img src="requests_per_category.png" alt="Requests per category">',
        _table(("category", "requests"), report.requests_per_category),
        "<h2>Phone pickup service level</h2>",
        "<p>Calls answered within their queue's threshold over calls offered to a queue.</p>",
        _table(
            ("offered", "answered", "answered within threshold", "service level"),
            [(sl.offered, sl.answered, sl.answered_within, _share(sl.share))],
        ),
        "<h2>First-contact resolution</h2>",
        _table(
            ("measure", "solved first time / counted", "share", "target", "verdict"),
            [
                _target_row("Phone: solved on the first contact", report.first_contact),
                _target_row("On site: solved at the first visit", report.first_visit),
            ],
        ),
        "<h2>SLA compliance</h2>",
        "<p>The clocks of the month's tickets; compliance is met over met plus breached.</p>",
        '<img src="sla_compliance.png" alt="SLA clocks met, breached and open">',
        _table(
            ("clock", "met", "breached", "open", "compliance"),
            [(s.kind, s.met, s.breached, s.open, _share(s.share)) for s in report.sla],
        ),
        "<h2>Time to resolve</h2>",
        _table(
            ("resolved in the month", "mean (hours)", "90th percentile (hours)"),
            [(rt.resolved, _number(rt.mean_hours), _number(rt.p90_hours))],
        ),
        "<h2>Repeated faults</h2>",
        "<h3>By item</h3>",
        _table(("item", "tickets"), report.top_items),
        "<h3>By model</h3>",
        _table(("model", "tickets"), report.top_models),
        f"<h2>Warranties ending in the {WARRANTY_HORIZON_DAYS} days after the month</h2>",
        f"<p>From {first_day.isoformat()} to {last_day.isoformat()}.</p>",
        _table(
            ("asset tag", "name", "type", "model", "owner", "warranty ends"),
            [
                (a.asset_tag, a.name, a.type, a.model or "", a.owner or "", a.warranty_end)
                for a in report.warranty_ending
            ],
        ),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"
