"""The explorer server behind ``paxchain explore``: walk a model's states in a browser.

In the spirit of Stateright's Explorer. A path is a list of indices: the first picks one of
``model.initial_states()``, each next one a successor of the state reached so far, in the
order ``model.successors`` gives them (deterministic by the model interface's contract, so a
path names the same states in every run). The page keeps the path in its URL's fragment
(``#/0/3/1``), so a reload or a shared link reopens it. States are expanded lazily: a request
re-walks its path from the initial state (the states of recent paths are remembered), never
the whole space.

JSON endpoints (all ``GET``; a bad request is ``{"error": "..."}`` with status 400 or 404):

- ``/api/model``: the instance's description, initial-state count and properties;
- ``/api/state?path=0/3/1``: the state at the path — its variables as text, the variables the
  last step changed, the properties it breaks (``fails``: invariants and quiescent; ``breaks``:
  transition properties the last step broke), the goals it reaches, each enabled step (label,
  the lines it changes, what it breaks, what the state it leads to breaks), and ``claims``: the
  outcomes a trace of this path may honestly claim;
- ``/api/violation``: runs the breadth-first check (``paxchain.checker.explicit.check``, the
  model's safety properties, stopping at the first violation) once, and returns the shortest
  counterexample as a path — or says that every property holds, or why the search stopped;
- ``/api/trace?path=...&property=NAME``: the path as a trace file (``Trace.dumps()``, the
  format ``paxchain replay`` reads), served as a download.

What a bookmarked trace claims. A trace file always names a property and an outcome, and
``replay`` refuses one whose last state (or step) does not show it. So a path is saved as a
*violation* of a property its last state breaks (or its last step, for a transition property),
or as a *witness* of a goal its last state reaches; a path that shows neither cannot be saved —
any claim would be false, and replay would refuse it. Every bookmark is replayed
(``paxchain.checker.trace.replay``) before it is served. Liveness properties need a loop, not
a path: the explorer leaves them to ``paxchain check``.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from paxchain.checker.explicit import check, selected
from paxchain.checker.explore_page import page_html
from paxchain.checker.render_text import diff_vars, format_value
from paxchain.checker.result import Options
from paxchain.checker.state_graph import Judge
from paxchain.checker.trace import Step, Trace, replay
from paxchain.models.model import Model
from paxchain.models.properties import SOMETIMES
from paxchain.models.values import TraceError
from paxchain.specs.model_properties import properties_of

__all__ = ["Explorer", "BadPath", "make_server"]

_CACHE = 20_000  # states remembered by path; the memo is dropped whole when it is full


class BadPath(ValueError):
    """A path that names no state: not integers, or an index past the enabled steps."""


class Explorer:
    """The model-side half of the server: states by path, the check, bookmarks. Thread-safe."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.judge = Judge(model)
        self.initial = list(model.initial_states())
        # every property a path can show (opt-in ones too); the check runs the default ones
        self.props = {p.name: p for p in properties_of(model) if not p.liveness}
        self.checked = tuple(p.name for p in selected(model, None)
                             if not p.liveness and p.kind != SOMETIMES)
        self._states: dict[tuple[int, ...], tuple[Any, Any]] = {}  # path -> (label, state)
        self._lock = threading.Lock()
        self._searching = threading.Lock()  # one check at a time, however many ask
        self._violation: dict[str, Any] | None = None

    # -- paths ------------------------------------------------------------------------------
    @staticmethod
    def parse(text: str) -> tuple[int, ...]:
        parts = [p for p in text.strip().strip("/").split("/") if p]
        if not parts:
            return (0,)
        if not all(p.isdigit() for p in parts):
            raise BadPath(f"a path is indices separated by '/', not {text!r}")
        return tuple(int(p) for p in parts)

    def walk(self, path: tuple[int, ...]) -> list[tuple[Any, Any]]:
        """``(label, state)`` for every state along ``path`` (label None for the first)."""
        if not path:
            raise BadPath("a path starts with an initial state's index")
        if not 0 <= path[0] < len(self.initial):
            raise BadPath(f"there are {len(self.initial)} initial states, no {path[0]}")
        out = [(None, self.initial[path[0]])]
        for n in range(2, len(path) + 1):
            key = path[:n]
            with self._lock:
                hit = self._states.get(key)
            if hit is None:
                options = list(self.model.successors(out[-1][1]))
                k = key[-1]
                if not 0 <= k < len(options):
                    raise BadPath(f"step {n - 1}: {len(options)} steps are enabled, no {k}")
                hit = options[k]
                with self._lock:
                    if len(self._states) >= _CACHE:
                        self._states.clear()
                    self._states[key] = hit
            out.append(hit)
        return out

    # -- the endpoints ----------------------------------------------------------------------
    def model_info(self) -> dict[str, Any]:
        m = self.model
        return {"title": m.describe(), "initial": len(self.initial),
                "properties": [{"name": p.name, "kind": p.kind, "summary": p.summary}
                               for p in self.props.values()]}

    def _shows(self, walked: list[tuple[Any, Any]]) -> tuple[list[str], list[str], list[str]]:
        """What the end of a walked path shows: the state properties its last state breaks,
        the transition properties its last step breaks, the goals its last state reaches."""
        cur = walked[-1][1]
        breaks = self.judge.breaks(walked[-2][1], cur) if len(walked) > 1 else ()
        return list(self.judge.fails(cur)), list(breaks), list(self.judge.reaches(cur))

    def state(self, path: tuple[int, ...]) -> dict[str, Any]:
        walked = self.walk(path)
        cur = walked[-1][1]
        prev_vars = self.model.to_vars(walked[-2][1]) if len(walked) > 1 else None
        cur_vars = self.model.to_vars(cur)
        j = self.judge
        steps = [{"label": str(label), "changes": diff_vars(cur_vars, self.model.to_vars(t)),
                  "breaks": list(j.breaks(cur, t)), "fails": list(j.fails(t))}
                 for label, t in self.model.successors(cur)]
        fails, breaks, reaches = self._shows(walked)
        claims = [{"property": n, "outcome": "violation"} for n in fails + breaks]
        claims += [{"property": n, "outcome": "witness"} for n in reaches]
        return {"path": list(path), "depth": len(path) - 1,
                "trail": [str(lb) for lb, _ in walked[1:]],
                "vars": [[k, format_value(v)] for k, v in cur_vars.items()],
                "changed": [k for k in cur_vars
                            if prev_vars is not None and prev_vars.get(k) != cur_vars[k]],
                "fails": fails, "breaks": breaks, "reaches": reaches, "claims": claims,
                "steps": steps}

    def violation(self) -> dict[str, Any]:
        """The shortest counterexample as a path (the check runs once, then is remembered)."""
        with self._searching:
            if self._violation is None:
                self._violation = self._search()
            return self._violation

    def _search(self) -> dict[str, Any]:
        if not self.checked:
            return {"found": False, "message": "the model has no safety property to violate"}
        result = check(self.model, Options(only=self.checked))
        found = [p for p in result.violations() if p.trace is not None]
        if not found:
            n = f"{result.stats.distinct:,}"
            if result.exhaustive:
                text = f"no violation: every safety property holds over all {n} reachable states"
            else:
                text = f"no violation found in {n} states; the search stopped ({result.stopped_by})"
            return {"found": False, "message": text}
        trace = found[0].trace
        assert trace is not None
        return {"found": True, "property": trace.prop, "kind": trace.kind,
                "steps": len(trace.steps) - 1, "explanation": trace.explanation,
                "path": self.path_of(trace)}

    def path_of(self, trace: Trace) -> list[int]:
        """The indices that walk ``trace``'s steps (the inverse of ``walk``)."""
        first = trace.steps[0].state
        path = [self.initial.index(first)]
        cur = first
        for i, step in enumerate(trace.steps[1:], start=1):
            options = list(self.model.successors(cur))
            k = next((k for k, (lb, t) in enumerate(options)
                      if lb == step.label and t == step.state), None)
            if k is None:
                raise TraceError(f"step {i} of the trace is not an enabled step of the model")
            path.append(k)
            cur = step.state
        return path

    def trace(self, path: tuple[int, ...], prop: str | None) -> tuple[str, str]:
        """The path as a replayed trace file's text and a file name (module docstring)."""
        walked = self.walk(path)
        claims = set().union(*self._shows(walked))
        if not claims:
            raise BadPath("this path breaks no property and reaches no goal, so a trace of it "
                          "would claim something false: walk on to a red or green state")
        if prop is None:
            prop = min(claims)
        if prop not in claims:
            raise BadPath(f"the path does not show {prop!r}; it shows "
                          f"{', '.join(sorted(claims))}")
        p = self.props[prop]
        steps = [Step(lb, s) for lb, s in walked]
        trace = Trace(self.model, p.name, p.kind, p.summary, steps)
        done = replay(self.model, trace.to_json())  # trust nothing, and get the explanation
        name = f"{self.model.name}-{prop}-{len(steps) - 1}-steps.json"
        return done.trace.dumps(), name


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass  # the terminal shows the URL and nothing per request

    def do_GET(self) -> None:  # noqa: N802 (the base's name)
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        ex = self.server.explorer
        try:
            if url.path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, "text/html; charset=utf-8", self.server.page.encode())
                return
            if url.path == "/api/model":
                self._json(ex.model_info())
            elif url.path == "/api/state":
                self._json(ex.state(ex.parse(query.get("path", "0"))))
            elif url.path == "/api/violation":
                self._json(ex.violation())
            elif url.path == "/api/trace":
                text, name = ex.trace(ex.parse(query.get("path", "0")), query.get("property"))
                self._send(HTTPStatus.OK, "application/json", text.encode(),
                           {"Content-Disposition": f'attachment; filename="{name}"'})
            else:
                self._json({"error": f"no such page {url.path}"}, HTTPStatus.NOT_FOUND)
        except BadPath as exc:
            self._json({"error": str(exc)}, HTTPStatus.NOT_FOUND)
        except (TraceError, ValueError) as exc:
            self._json({"error": str(exc)}, HTTPStatus.BAD_REQUEST)

    def _json(self, data: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, "application/json", json.dumps(data).encode())

    def _send(self, status: HTTPStatus, ctype: str, body: bytes,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    explorer: Explorer
    page: str


def make_server(model: Model, port: int = 0, host: str = "127.0.0.1") -> _Server:
    """A server for ``model`` bound to ``host:port`` (0: a free port), not yet serving: call
    ``serve_forever()`` (and ``shutdown()`` from another thread, then ``server_close()``)."""
    server = _Server((host, port), _Handler)
    server.explorer = Explorer(model)
    server.page = page_html(model.describe())
    return server
