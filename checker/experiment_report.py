"""An experiment's results written out: CSV, JSON, one PNG and one SVG per figure, an HTML page.

``write_report(exp, rows, out_dir, meta)`` writes into ``out_dir``:

- ``runs.csv`` — one row per run (the point, the seed, what the run measured);
- ``summary.csv`` — one row per grid point (``paxchain.checker.experiments.summary_rows``);
- ``results.json`` — ``meta`` (the command, seeds, grid), the summary rows and the figures' data;
- ``<figure>.png`` and ``<figure>.svg`` — each figure, drawn with matplotlib;
- ``index.html`` — the title, what the figures show, every figure (SVG inline) and the summary
  table; it loads nothing from the network.

Everything is rendered in memory first, then each file is written atomically. The same rows give
byte-identical files (no dates or random ids in the SVG or PNG metadata).
"""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path
from collections.abc import Mapping, Sequence
from typing import Any

from paxchain.checker.experiments import Experiment, Figure, summary_rows
from paxchain.checker.files import write_atomic

__all__ = ["write_report", "figure_data"]

Row = dict[str, Any]


def _csv(rows: Sequence[Row]) -> str:
    if not rows:
        return ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    return buf.getvalue()


def figure_data(fig: Figure, summary: Sequence[Row]) -> dict[str, Any]:
    """The lines of ``fig``: ``{label: [[x, y], ...]}`` (points without a value left out), and
    for each the analytic expectation when the figure has one (same labels)."""
    rows = [r for r in summary if all(r.get(k) == v for k, v in fig.where.items())]
    lines: dict[str, list[list[Any]]] = {}
    analytic: dict[str, list[list[Any]]] = {}
    for r in rows:
        label = f"{fig.lines}={r[fig.lines]}" if fig.lines else fig.y
        if r.get(fig.y) is not None:
            lines.setdefault(label, []).append([r[fig.x], r[fig.y]])
        if fig.analytic is not None:
            analytic.setdefault(label, []).append([r[fig.x], fig.analytic(r)])
    return {"title": fig.title, "x": fig.x, "y": fig.y, "where": dict(fig.where),
            "lines": lines, "analytic": analytic}


def _draw(data: Mapping[str, Any], log_x: bool) -> tuple[bytes, bytes]:
    import matplotlib  # only when a report is drawn: it takes a second to import

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "paxchain"
    from matplotlib import pyplot as plt  # after the backend is chosen, as matplotlib asks

    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for label, pts in data["lines"].items():
        pts = sorted(pts)
        (line,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
        expected = sorted(data["analytic"].get(label, []))
        if expected:
            ax.plot([p[0] for p in expected], [p[1] for p in expected], "--",
                    color=line.get_color(), label=f"{label}, expected")
    if log_x:
        ax.set_xscale("log")
        xs = sorted({p[0] for pts in data["lines"].values() for p in pts})
        ax.set_xticks(xs, [f"{x:g}" for x in xs])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_title(data["title"], fontsize=10)
    ax.set_xlabel(data["x"])
    ax.set_ylabel(data["y"])
    ax.grid(True, alpha=0.3)
    if data["lines"] or data["analytic"]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", metadata={"Software": None})
    fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return png.getvalue(), svg.getvalue()


def _table(rows: Sequence[Row]) -> str:
    if not rows:
        return "<p>no runs</p>"

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4g}"
        return html.escape("" if v is None else str(v))

    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r.values()) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(exp: Experiment, meta: Mapping[str, Any], svgs: Mapping[str, bytes],
          summary: Sequence[Row]) -> str:
    figs = "".join(
        f'<figure id="{html.escape(n)}">{svg.decode().split("?>", 1)[-1]}</figure>'
        for n, svg in svgs.items())
    axes = "".join(f"<li><b>{html.escape(a.name)}</b> ∈ {html.escape(str(list(a.values)))}"
                   f" — {html.escape(a.doc)}</li>" for a in exp.axes)
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(exp.title)}</title><style>"
        "body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;max-width:90em}"
        "figure{display:inline-block;margin:.5em}figure svg{max-width:100%;height:auto}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:right}</style></head><body>"
        f"<h1>{html.escape(exp.title)}</h1>"
        f"<p class=\"findings\">{html.escape(exp.findings(list(summary)))}</p>"
        f"<p>Command: <code>{html.escape(str(meta.get('command', '')))}</code>; "
        f"{meta.get('seeds')} seeds per point, {meta.get('runs')} runs.</p>"
        f"<ul>{axes}</ul>{figs}<h2>Summary per grid point</h2>{_table(summary)}"
        "</body></html>\n")


def write_report(exp: Experiment, rows: Sequence[Row], out_dir: str | Path,
                 meta: Mapping[str, Any]) -> list[Path]:
    """Write every file of the report (module docstring); returns their paths."""
    summary = summary_rows(exp, rows)
    figures = {f.name: figure_data(f, summary) for f in exp.figures}
    files: dict[str, str | bytes] = {
        "runs.csv": _csv(rows), "summary.csv": _csv(summary),
        "results.json": json.dumps({"meta": dict(meta), "findings": exp.findings(summary),
                                    "summary": summary,
                                    "figures": figures}, indent=1, sort_keys=True) + "\n"}
    svgs = {}
    for f in exp.figures:
        png, svg = _draw(figures[f.name], f.log_x)
        files[f"{f.name}.png"], files[f"{f.name}.svg"] = png, svg
        svgs[f.name] = svg
    files["index.html"] = _page(exp, meta, svgs, summary)
    out = Path(out_dir)
    return [write_atomic(out / name, content) for name, content in files.items()]
