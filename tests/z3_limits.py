"""The Z3 budget the tests give each obligation: a resource count, not seconds.

A wall-clock limit makes a verdict depend on the machine's load (an obligation proved here in
0.2 s came back *unknown* on a busy CI machine); Z3's ``rlimit`` counts solver steps, so the same
query gets the same verdict everywhere. The figure leaves a wide margin over what the slowest
obligation the tests pose spends on this Z3 version.
"""

RLIMIT = 50_000_000
