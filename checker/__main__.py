"""``python -m checker`` is ``paxchain``."""

from checker.cli import main

main()
