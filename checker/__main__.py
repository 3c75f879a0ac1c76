"""``python -m paxchain.checker`` is ``paxchain``."""

from paxchain.checker.cli import main

main()
