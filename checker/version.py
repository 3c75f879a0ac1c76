"""paxchain's version, written into every trace and report file and printed by ``--version``."""

__version__ = "0.1.0"
