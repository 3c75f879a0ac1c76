"""paxchain's checker: engines, traces, renderers and the CLI. Knows nothing of any protocol.

The public API::

    from paxchain.checker import Options, check
    result = check(model, Options(max_depth=20))
    result.verdict            # "holds" | "violated" | "incomplete"
    result.get("agreement").trace
"""

from paxchain.checker.version import __version__
from paxchain.checker.explicit import check
from paxchain.models.model import Label, Model, Record
from paxchain.models.properties import Property, invariant, sometimes, transition, quiescent
from paxchain.checker.result import HOLDS, INCOMPLETE, VIOLATED, Options, Result

__all__ = ["__version__", "check", "Label", "Model", "Record", "Property", "invariant",
           "sometimes", "transition", "quiescent", "Options", "Result", "HOLDS", "VIOLATED",
           "INCOMPLETE"]
