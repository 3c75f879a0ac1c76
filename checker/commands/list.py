"""``paxchain list [MODEL]``: every model, one line each: parameters with defaults, variants,
properties.

Without MODEL: the built-in models and those installed packages offer (entry-point group
``paxchain.models``). With MODEL: that one, which may also be a model of your own
(``MODULE:FACTORY`` or ``FILE.py:FACTORY``, ``paxchain.models.registry.entry``).
"""

from __future__ import annotations

import click

from paxchain.checker.cli import echo
from paxchain.models import registry
from paxchain.specs.model_properties import properties_of

__all__ = ["command"]


def _default_text(value) -> str:
    if value is None:
        return "default"
    return str(value)


def _properties(e: registry.ModelEntry) -> str:
    """The property names of the model at its defaults (what a model that cannot be built at
    its defaults says instead); an opt-in property, checked only when named with
    ``--property``, is marked ``(opt-in)``."""
    try:
        model = e.build(variant=None, **{p.name: p.default for p in e.params})
    except (registry.BadInput, ValueError) as exc:
        return f"(not at its defaults: {exc})"
    return ",".join(p.name + (" (opt-in)" if p.opt_in else "") for p in properties_of(model))


@click.command("list")
@click.argument("model", required=False)
@click.option("--long", "long_", is_flag=True, help="Also describe each parameter and variant.")
def command(model, long_) -> None:
    """List the models (or MODEL), their parameters, variants and properties."""
    if model is not None:
        found = [registry.entry(model)]
    else:
        found = [e for _, e in sorted(registry.entries().items())]
        for name in sorted(registry.offered()):
            try:
                found.append(registry.entry(name))
            except registry.BadInput as exc:  # one broken package hides no other model
                echo(f"{name}  error: {exc}")
    for e in found:
        params = " ".join(f"{p.name}={_default_text(p.default)}" for p in e.params)
        variants = ",".join(sorted(e.variants)) or "-"
        echo(f"{e.name}  params: {params}  variants: {variants}  properties: {_properties(e)}")
        if long_:
            echo(f"    {e.summary}")
            for p in e.params:
                echo(f"    --param {p.name}=…  {p.doc}")
            for v, doc in sorted(e.variants.items()):
                echo(f"    --variant {v}  {doc}".rstrip())
