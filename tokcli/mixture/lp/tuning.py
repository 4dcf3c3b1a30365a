"""The LP's scale, tolerances and tuning knobs (what each one was measured against: docs/benchmarks.md,
"Mixture inference").

The other modules of :mod:`tokcli.mixture.lp` read these as ``tuning.NAME`` when they run, so a test can
change one with ``monkeypatch.setattr(tuning, NAME, value)``.
"""

from __future__ import annotations

# Counts are normalised per million pairs of each category (not per pair): HiGHS's feasibility tolerance
# (1e-7) would otherwise be larger than the count differences the LP must respect.
SCALE = 1e6
TOLERANCE = 1e-6  # on the SCALE above: one part in 10^12 of a category's pairs
PRUNE_MIN = 500  # only rebuild the model when at least this many rows can go
SPLIT_DEPTH = 4  # up to 2**4 - 1 violated steps found per segment and sweep of the main LP
COVER_SPLIT_DEPTH = 8  # and of the cover (tokcli.mixture.lp.cover): see there
PHASE_START = 1000  # merges in the first phase of solve_mixture(phased=True)
PHASE_GROWTH = 3  # each next phase solves this many times more merges
PHASE_STOP = 0.03  # a phase before the last ends when a round raises the objective by less than this share
COVER_PHASES = 2  # the last phases driven by the fixed-weights cover
COVER_ROUND = 1000  # rows the cover adds per round of its own
COVER_PER_STEP = 2  # at most this many per step
COVER_PER_PAIR = 1  # and per pair
COVER_PRUNE_MIN = 5000  # the cover prunes only when at least this many rows can go (lp.cover)
IPM_MIN_ROWS = 2000  # a round adding at least this many rows, and at least as many as the model holds, uses IPM
GAP = 1e-9  # relative gap between the cover (upper bound) and the main LP (lower bound) that proves optimality
