"""paxchain's checker: engines, traces, renderers and the CLI. Knows nothing of any protocol.

The public API::

    from paxchain.checker import Options, check
    result = check(model, Options(max_depth=20))
    result.verdict            # "holds" | "violated" | "incomplete"
    result.get("agreement").trace
"""

__version__ = "0.1.0"

from paxchain.checker.explicit import check  # noqa: E402
from paxchain.models.model import Label, Model, Record  # noqa: E402
from paxchain.models.properties import Property, invariant, sometimes, transition, quiescent  # noqa: E402
from paxchain.checker.result import HOLDS, INCOMPLETE, VIOLATED, Options, Result  # noqa: E402

__all__ = ["__version__", "check", "Label", "Model", "Record", "Property", "invariant",
           "sometimes", "transition", "quiescent", "Options", "Result", "HOLDS", "VIOLATED",
           "INCOMPLETE"]
