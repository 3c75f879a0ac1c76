"""``paxchain list``: every model, one line each: parameters with defaults, variants, properties."""

from __future__ import annotations

import click

from paxchain.checker.cli import echo

__all__ = ["command"]


def _default_text(value) -> str:
    if value is None:
        return "default"
    return str(value)


@click.command("list")
@click.option("--long", "long_", is_flag=True, help="Also describe each parameter and variant.")
def command(long_) -> None:
    """List the models, their parameters, variants and properties."""
    from paxchain.models import registry

    for name, e in sorted(registry.entries().items()):
        props = [p.name for p in e.build(variant=None, **{p.name: p.default for p in e.params})
                 .properties()]
        params = " ".join(f"{p.name}={_default_text(p.default)}" for p in e.params)
        variants = ",".join(sorted(e.variants)) or "-"
        echo(f"{name}  params: {params}  variants: {variants}  properties: "
             f"{','.join(props)}")
        if long_:
            echo(f"    {e.summary}")
            for p in e.params:
                echo(f"    --param {p.name}=…  {p.doc}")
            for v, doc in sorted(e.variants.items()):
                echo(f"    --variant {v}  {doc}")
