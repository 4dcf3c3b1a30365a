"""The mixture LP of Hayase et al. (NeurIPS 2024), solved with HiGHS and lazily added constraints.

Variables: mixture weights a_i >= 0 with sum a_i = 1, a slack v_t >= 0 per merge step and v_p >= 0 per
pair. For every step t and every competing pair p != m(t):

    sum_i a_i (c_i[m(t)](t) - c_i[p](t)) + v_t + v_p >= 0        (c: normalised counts at step t)

i.e. the merge the tokenizer chose must have been the most frequent pair of the mixture, up to slack;
minimise sum v_t + sum v_p. The full constraint set is huge (steps x pairs), so constraints are added
lazily (cutting planes): solve, sweep every step for constraints the current solution violates, add the
worst, re-solve; when a sweep finds no violated constraint the solution is optimal for the full LP.

The sweep is vectorised. A pair's mixture count is piecewise constant in t: it only changes at the
steps where some category's count of it changes (the replay's diffs). For each such segment
[s, e) of pair p with mixture value V, the constraints (t, p), s <= t < e, are violated where
V - v_p > theta_t := mixture[m(t)](t) + v_t; the worst one is at the argmin of theta over [s, e)
(a sparse-table range-minimum query). Each violated segment proposes that constraint; the most violated
are added, at most ``per_step`` per step, ``per_pair`` per pair and ``per_round`` per round (the
reference implementation, alisawuffles/tokenizer-attack, takes the worst 10 per step and 100 per round
with Gurobi). The per-pair cap matters most: the merges the samples cannot explain all compete with the
same few most frequent pairs, and at the optimum each such pair is matched (non-zero dual) with one of
those steps only (for fixed weights the slacks are a bipartite vertex cover, dual to a max-weight
matching of steps and pairs). Adding the worst violations uncapped gives every such step rows against
the same pairs, most of which never bind; one row per pair and round, spread over distinct steps, is
closer to that matching (2 per step and 500 per round were tuned with it). On 30 categories of 3 MB at
T = 10,000, with the other changes of that session (docs/benchmarks.md): 154,000 -> 66,000 rows added,
205,000 -> 144,000 simplex iterations, 95 -> 41 s CPU; T = 29,744 now ends (536 s).

The last phases (after an earlier one has brought the weights close) are driven by the fixed-weights
problem instead (``_Cover``): at the current weights, the vertex cover is solved lazily in a cheap model
of its own, the rows of its matching are added to the main LP, and the loop ends as soon as the cover's
objective (a feasible solution of the full LP: an upper bound) equals the main LP's (a lower bound).
The main LP then needs about 20 rounds instead of hundreds, and the degenerate tail where its own
slacks keep violating rows the optimum does not need is skipped (docs/benchmarks.md: T = 10,000
34.3 -> 24.1 s, T = 29,744 536 -> 240 s CPU with the cover pruning its rows). The first round of such a
phase brings the matching rows of thousands of new steps at once; rounds that at least double the model
are solved by the interior point method (``IPM_MIN_ROWS``; T = 29,744: 240 -> 148-164 s). The cover's
sweeps search each violated segment for violated steps deeper than the main LP's (``COVER_SPLIT_DEPTH``,
see ``_Cover``; T = 29,744: 146 -> 75-88 s; docs/benchmarks.md, stop 16).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tokcli.errors import TokcliError
from tokcli.mixture.replay import ReplayCounts

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Counts are normalised per million pairs of each category (not per pair): HiGHS's feasibility tolerance
# (1e-7) would otherwise be larger than the count differences the LP must respect.
SCALE = 1e6
TOLERANCE = 1e-6  # on the SCALE above: one part in 10^12 of a category's pairs
PRUNE_MIN = 500  # only rebuild the model when at least this many rows can go
SPLIT_DEPTH = 4  # up to 2**4 - 1 violated steps found per segment and sweep of the main LP
COVER_SPLIT_DEPTH = 8  # and of the cover (_Cover): see there
PHASE_START = 1000  # merges in the first phase of solve_mixture(phased=True)
PHASE_GROWTH = 3  # each next phase solves this many times more merges
PHASE_STOP = 0.03  # a phase before the last ends when a round raises the objective by less than this share
COVER_PHASES = 2  # the last phases driven by the fixed-weights cover (_Cover)
COVER_ROUND = 1000  # rows the cover adds per round of its own
COVER_PER_STEP = 2  # at most this many per step
COVER_PER_PAIR = 1  # and per pair
COVER_PRUNE_MIN = 5000  # the cover prunes only when at least this many rows can go (see _Cover._prune)
IPM_MIN_ROWS = 2000  # a round adding at least this many rows, and at least as many as the model holds, uses IPM
GAP = 1e-9  # relative gap between the cover (upper bound) and the main LP (lower bound) that proves optimality


class SolveError(TokcliError):
    """The LP could not be solved (infeasible, unbounded or a solver failure)."""


@dataclass
class LpResult:
    weights: list[float]
    status: str
    objective: float
    rounds: int
    constraints: int  # added over all rounds
    seconds: float
    rows: int = 0  # constraint rows in the final model (non-binding ones are pruned)
    sweep_seconds: float = 0.0
    solver_seconds: float = 0.0
    iterations: int = 0
    cover_seconds: float = 0.0  # solving the fixed-weights cover (_Cover), its sweeps included
    cover_iterations: int = 0
    ipm_iterations: int = 0  # of the rounds solved by the interior point method (see IPM_MIN_ROWS)
    violations_left: int = 0
    added: list[tuple[int, int]] = field(default_factory=list)  # (step, pair) of every constraint
    history: list[dict[str, float]] = field(default_factory=list)


class _Events:
    """All categories' counts merged into per-(pair, step) segments of the mixture count."""

    def __init__(self, categories: Sequence[ReplayCounts], merged: Sequence[int]) -> None:
        import numpy as np

        self.steps_total = steps = len(merged)
        self.stride = stride = steps + 1
        self.n = len(categories)
        self.scales = np.array([SCALE / c.total if c.total else 0.0 for c in categories])
        self.keys: list[npt.NDArray[np.int64]] = []  # per category: pair * stride + step, sorted
        self.values: list[npt.NDArray[np.float64]] = []  # per category: normalised count from that key on
        pairs, when, deltas, owner = [], [], [], []
        for i, c in enumerate(categories):
            keep = c.steps < steps
            p, s, n = c.pairs[keep], c.steps[keep].astype(np.int64), c.counts[keep]
            self.keys.append(p * stride + s)
            self.values.append(n * self.scales[i])
            previous = np.zeros_like(n)
            same = np.zeros(len(p), dtype=bool)
            same[1:] = p[1:] == p[:-1]
            previous[1:] = np.where(same[1:], n[:-1], 0)
            pairs.append(p)
            when.append(s)
            deltas.append((n - previous) * self.scales[i])
            owner.append(np.full(len(p), i, dtype=np.int32))
        pair = np.concatenate(pairs) if pairs else np.zeros(0, dtype=np.int64)
        step = np.concatenate(when) if when else np.zeros(0, dtype=np.int64)
        key = pair * stride + step
        order = np.argsort(key, kind="stable")
        self.key = key[order]
        self.delta = np.concatenate(deltas)[order]
        self.owner = np.concatenate(owner)[order]
        pair = pair[order]
        # group = one (pair, step): its value is the cumulative sum at its last row
        last = np.ones(len(self.key), dtype=bool)
        last[:-1] = self.key[1:] != self.key[:-1]
        self.group_end = np.flatnonzero(last)
        self.group_key = self.key[self.group_end]
        self.group_pair = pair[self.group_end]
        self.group_start_step = self.group_key - self.group_pair * stride
        next_same = np.zeros(len(self.group_end), dtype=bool)
        next_same[:-1] = self.group_pair[1:] == self.group_pair[:-1]
        self.group_stop_step = np.where(next_same, np.roll(self.group_start_step, -1), steps)
        # the row where each group's pair block starts, for a per-pair cumulative sum
        first = np.ones(len(self.key), dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        block_start = np.maximum.accumulate(np.where(first, np.arange(len(self.key)), 0))
        self.group_block = block_start[self.group_end]
        self.merged = np.asarray(merged, dtype=np.int64)
        target = self.merged * stride + np.arange(steps)
        at = np.searchsorted(self.group_key, target, side="right") - 1
        self.target_group = np.where((at >= 0) & (self.group_pair[np.maximum(at, 0)] == self.merged), at, -1)
        # A step gives constraints only if some sample contains its merge then (as the reference). Fixed
        # here, not tested against the current weights: a merge that only zero-weight categories contain
        # still constrains, so the LP does not depend on its own solution (the earlier `target <= 0` test
        # dropped 9 such steps on a 30-category instance at T = 10,000: objective 124,307 vs 124,438).
        present = self.group_values(np.ones(self.n))
        self.eligible = (self.target_group >= 0) & (present[np.maximum(self.target_group, 0)] > 0)

    def row_key(self, step: int, pair: int) -> int:
        """A (step, pair) as one int, ordered by pair then step (as ``keys`` and ``group_key``)."""
        return pair * self.stride + step

    def group_values(self, weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        import numpy as np

        running = np.cumsum(weights[self.owner] * self.delta)
        before = np.where(self.group_block > 0, running[np.maximum(self.group_block - 1, 0)], 0.0)
        out: npt.NDArray[np.float64] = running[self.group_end] - before
        return out

    def counts_at(self, steps: npt.NDArray[np.int64], pairs: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Normalised count of each (step, pair), per category: shape (len(steps), n)."""
        import numpy as np

        query = pairs * self.stride + steps
        out = np.zeros((len(query), self.n))
        for i, (keys, values) in enumerate(zip(self.keys, self.values, strict=True)):
            at = np.searchsorted(keys, query, side="right") - 1
            ok = (at >= 0) & (keys[np.maximum(at, 0)] // self.stride == pairs)
            out[:, i] = np.where(ok, values[np.maximum(at, 0)], 0.0)
        return out


def _min_table(theta: npt.NDArray[np.float64]) -> list[Any]:
    """A sparse table of theta: level k holds the index of the minimum of each window of 2**k values."""
    import numpy as np

    levels = [np.arange(len(theta))]
    width = 1
    while 2 * width <= len(theta):
        prev = levels[-1]
        left, right = prev[: len(prev) - width], prev[width:]
        levels.append(np.where(theta[left] <= theta[right], left, right))
        width *= 2
    return levels


def _range_argmin(
    theta: npt.NDArray[np.float64], levels: list[Any], lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64]
) -> Any:
    """Index of the minimum of theta over [lo, hi) for each range (hi > lo), by its sparse table ``levels``."""
    import numpy as np

    length = hi - lo
    k = np.floor(np.log2(np.maximum(length, 1))).astype(np.int64)
    result = np.empty(len(lo), dtype=np.int64)
    for level in np.unique(k):
        sel = np.flatnonzero(k == level)
        table = levels[level]
        a = table[lo[sel]]
        b = table[hi[sel] - (1 << level)]
        result[sel] = np.where(theta[a] <= theta[b], a, b)
    return result


def _sweep(
    events: _Events,
    weights: npt.NDArray[np.float64],
    slack_step: npt.NDArray[np.float64],
    slack_pair: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]],
    first_step: int,
    last_step: int,
    per_step: int,
    per_round: int,
    known: set[int],
    per_pair: int = 1,
    values: npt.NDArray[np.float64] | None = None,
    split_depth: int | None = None,
) -> tuple[list[tuple[int, int]], int]:
    """The worst violated constraints (step, pair) not known yet (``known``: pair * stride + step), and
    how many violated segments exist. ``slack_pair``: the pairs with a non-zero slack v_p (sorted) and
    their slacks. ``values``: ``events.group_values(weights)`` when the caller has it already.
    ``split_depth``: levels of the search for violated steps within a segment (default ``SPLIT_DEPTH``)."""
    import numpy as np

    if values is None:
        values = events.group_values(weights)
    target = np.where(events.target_group >= 0, values[np.maximum(events.target_group, 0)], 0.0)
    theta = target + slack_step
    theta[:first_step] = np.inf
    theta[~events.eligible] = np.inf  # a merge no sample contains gives no constraint (as the reference)
    if not len(values) or first_step >= last_step:
        return [], 0
    level = values
    keys, vals = slack_pair
    if len(keys):  # subtract each pair's slack from its segments (group_pair is sorted)
        start = np.searchsorted(events.group_pair, keys, side="left")
        count = np.searchsorted(events.group_pair, keys, side="right") - start
        at = np.repeat(start - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
        level = values.copy()
        level[at] -= np.repeat(vals, count)
    lo = np.maximum(events.group_start_step, first_step)
    hi = np.minimum(events.group_stop_step, last_step)
    candidates = np.flatnonzero((level > float(theta.min()) + TOLERANCE) & (hi > lo))
    if not len(candidates):
        return [], 0
    # Violated steps of each segment, worst first: the range minimum, then (breadth first) the minima
    # of the sub-ranges on either side, to ``split_depth`` levels; a sub-range whose minimum is not
    # violated holds no violation.
    # A sub-range's violations are at most its parent's, so once more than ``head`` violations are
    # found, only the sub-ranges of those above the head-th largest can still rank among the first.
    head = 8 * per_round
    table = _min_table(theta)  # built once: every level of the splitting queries the same theta
    found_seg, found_step, found_excess = [], [], []
    seg, a, b = candidates, lo[candidates], hi[candidates]
    for _ in range(SPLIT_DEPTH if split_depth is None else split_depth):
        if not len(seg):
            break
        worst = _range_argmin(theta, table, a, b)
        excess = level[seg] - theta[worst]
        ok = excess > TOLERANCE
        seg, a, b, worst, excess = seg[ok], a[ok], b[ok], worst[ok], excess[ok]
        found_seg.append(seg)
        found_step.append(worst)
        found_excess.append(excess)
        left, right = worst > a, b > worst + 1
        bound = np.concatenate([excess[left], excess[right]])
        seg = np.concatenate([seg[left], seg[right]])
        a, b = np.concatenate([a[left], worst[right] + 1]), np.concatenate([worst[left], b[right]])
        found = sum(map(len, found_excess))
        if found > head:
            threshold = np.partition(np.concatenate(found_excess), found - head)[found - head]
            keep = bound >= threshold
            seg, a, b = seg[keep], a[keep], b[keep]
    violated = len(found_seg[0])
    candidates = np.concatenate(found_seg)
    worst = np.concatenate(found_step)
    excess = np.concatenate(found_excess)
    steps, pairs = worst, events.group_pair[candidates]
    return _select(steps, pairs, excess, known, events.stride, per_step, per_pair, per_round), violated


def _select(
    steps: Any, pairs: Any, excess: Any, known: set[int], stride: int, per_step: int, per_pair: int, per_round: int
) -> list[tuple[int, int]]:
    """The constraints (step, pair) to add, greedily by decreasing excess (ties in candidate order): not
    known yet, at most ``per_step`` per step, ``per_pair`` per pair and ``per_round`` in all. Only the
    worst few thousand are sorted unless the caps reject most of them (the first rounds of a phase have
    millions of violations; sorting them all took 60% of the sweep)."""
    import numpy as np

    total = len(excess)
    head, done = 8 * per_round, 0
    chosen: list[tuple[int, int]] = []
    taken_step: dict[int, int] = {}
    taken_pair: dict[int, int] = {}
    while done < total:
        if total - done <= 2 * head:
            rest = np.argsort(-excess, kind="stable")[done:]
        else:  # the next `head` by excess (the sort is stable: ties in candidate order)
            threshold = np.partition(excess, total - done - head)[total - done - head]
            top = np.flatnonzero(excess >= threshold)
            rest = top[np.argsort(-excess[top], kind="stable")][done:]
        for t, p in zip(steps[rest].tolist(), pairs[rest].tolist(), strict=True):
            # p * stride + t: _Events.row_key, written out on this hot loop
            if taken_step.get(t, 0) >= per_step or taken_pair.get(p, 0) >= per_pair or p * stride + t in known:
                continue
            taken_step[t] = taken_step.get(t, 0) + 1
            taken_pair[p] = taken_pair.get(p, 0) + 1
            chosen.append((t, p))
            if len(chosen) >= per_round:
                return chosen
        done += len(rest)
        head *= 4
    return chosen


def _keys(table: dict[int, int]) -> Any:
    import numpy as np

    return np.fromiter(table.keys(), dtype=np.int64, count=len(table))


def _values(table: dict[int, int]) -> Any:
    import numpy as np

    return np.fromiter(table.values(), dtype=np.int64, count=len(table))


def _slacks(x: Any, step_slack: dict[int, int], pair_slack: dict[int, int], steps: int) -> tuple[Any, tuple[Any, Any]]:
    """From a solution ``x``: the step slacks v_t (dense over steps) and the pairs with a non-zero slack
    v_p with their slacks (sorted by pair), as ``_sweep`` takes them."""
    import numpy as np

    slack_step = np.zeros(steps)
    slack_step[_keys(step_slack)] = x[_values(step_slack)]
    keys, values = _keys(pair_slack), x[_values(pair_slack)]
    nonzero = np.flatnonzero(values)
    order = nonzero[np.argsort(keys[nonzero])]
    return slack_step, (keys[order], values[order])


def _phases(first_step: int, steps: int) -> list[int]:
    """Growing prefixes of the merge list, each solved to optimality before the next (the last is all
    steps): the weights found on the first merges, which carry most of the signal, warm-start the sweep
    of the longer list, so far fewer constraints are added for weights that are far from the optimum.
    The prefixes shrink by ``PHASE_GROWTH`` from the full list down to about ``PHASE_START`` merges:
    every phase ends with a tail of rounds that re-optimise small changes, so the phases are few and
    the last but one is far from the last (never 27,000 then 30,000)."""
    limits = [steps]
    while (limits[0] - first_step) // PHASE_GROWTH >= PHASE_START:
        limits.insert(0, first_step + (limits[0] - first_step) // PHASE_GROWTH)
    return limits


def _quiet_highs() -> Any:
    """A ``highspy.Highs`` with its log off. Recent HiGHS releases (1.16) print a banner from C++ to
    the process's standard output while the object is built, before any option can be set; stdout
    carries tokcli's data, so file descriptor 1 points to /dev/null for that moment."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return highs


class _Model:
    """The LP in HiGHS, in a sparse form equivalent to the rows above. Mixture counts are shared: a
    step's chosen-merge level y_t = sum_i a_i c_i[m(t)](t) + v_t, and the count of pair p over one
    segment (the steps where no category's count of p changes) z_s = sum_i a_i c_i[p](s), are columns
    defined once by an equality row; each constraint (t, p) is then the 3-entry row y_t - z_s + v_p >= 0.
    Thousands of constraints share a few steps and segments (at T = 10,000 on 30 categories, 114,000
    constraints use 6,400 steps and 11,300 segments), so the weight columns appear in far fewer rows:
    about 5x fewer non-zeros."""

    def __init__(self, events: _Events) -> None:
        import highspy
        import numpy as np

        self.events = events
        self.n = n = events.n
        self.inf = highspy.kHighsInf
        self.highs = _quiet_highs()
        self.highs.setOptionValue("random_seed", 0)
        # the dual simplex runs serially anyway; HiGHS would otherwise start a worker thread per CPU,
        # past --threads (tokcli.resources)
        self.highs.setOptionValue("threads", 1)
        # Devex pricing: each round adds rows to a warm-started model, and the default (dual steepest
        # edge) recomputes its weights for the whole basis at every run (a solve per row); Devex needs
        # more iterations but cheaper ones (HiGHS time about -35% at T = 3,000, 30 categories).
        self.highs.setOptionValue("simplex_dual_edge_weight_strategy", 1)
        self.highs.setOptionValue("run_crossover", "on")  # after IPM rounds (IPM_MIN_ROWS): a basis to warm-start from
        self._empty = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64))
        for _ in range(n):  # mixture weights, cost 0
            self.highs.addCol(0.0, 0.0, self.inf, 0, *self._empty)
        self.highs.addRow(1.0, 1.0, n, np.arange(n, dtype=np.int32), np.ones(n))  # they sum to 1
        self.rows: list[tuple[int, int] | None] = [None]  # per model row: (step, pair), None = a definition
        self.step_slack: dict[int, int] = {}  # step -> column of v_t
        self.step_level: dict[int, int] = {}  # step -> column of y_t
        self.pair_slack: dict[int, int] = {}  # pair -> column of v_p
        self.segment: dict[int, int] = {}  # segment (group of _Events) -> column of z_s
        self.row_segment: list[int] = [-1]  # per model row: the segment of a constraint or definition row
        self.uses: dict[int, int] = {}  # segment -> constraint rows that use it

    def _columns(self, costs: Sequence[float], lower: Sequence[float]) -> list[int]:
        """Append columns (no entries yet); their positions."""
        import numpy as np

        first = int(self.highs.getNumCol())
        m = len(costs)
        if m:
            self.highs.addCols(
                m, np.asarray(costs, dtype=np.float64), np.asarray(lower, dtype=np.float64), np.full(m, self.inf), 0,
                np.zeros(m, dtype=np.int32), *self._empty,
            )  # fmt: skip
        return list(range(first, first + m))

    def _define(self, cols: Sequence[int], counts: Any, extras: Sequence[int] | None, segments: Sequence[int]) -> None:
        """One row per column: col - sum_i a_i counts_i [- extra] = 0 (a weight with count 0 has no entry)."""
        import numpy as np

        m = len(cols)
        if not m:
            return
        nonzero = counts != 0
        per_row = nonzero.sum(axis=1)
        lengths = 1 + per_row + (1 if extras is not None else 0)
        starts = np.zeros(m, dtype=np.int32)
        starts[1:] = np.cumsum(lengths)[:-1]
        index = np.empty(int(lengths.sum()), dtype=np.int32)
        value = np.empty(len(index))
        # each row holds the column, then its non-zero weights in order, then the extra column
        row, weight = np.nonzero(nonzero)
        at = starts[row] + 1 + np.arange(len(row)) - (np.cumsum(per_row) - per_row)[row]
        index[starts], value[starts] = cols, 1.0
        index[at], value[at] = weight, -counts[row, weight]
        if extras is not None:
            index[starts + lengths - 1], value[starts + lengths - 1] = extras, -1.0
        self.highs.addRows(m, np.zeros(m), np.zeros(m), len(index), starts, index, value)
        self.rows += [None] * m
        self.row_segment += list(segments)

    def add(self, constraints: Sequence[tuple[int, int]]) -> None:
        import numpy as np

        events = self.events
        steps = sorted({t for t, _ in constraints if t not in self.step_level})
        if steps:
            t_arr = np.asarray(steps, dtype=np.int64)
            cols = self._columns([1.0, 0.0] * len(steps), [0.0, -self.inf] * len(steps))
            slack, level = cols[0::2], cols[1::2]
            self.step_slack.update(zip(steps, slack, strict=True))
            self.step_level.update(zip(steps, level, strict=True))
            self._define(level, events.counts_at(t_arr, events.merged[t_arr]), slack, [-1] * len(steps))
        keys = np.asarray([p * events.stride + t for t, p in constraints], dtype=np.int64)
        groups = (np.searchsorted(events.group_key, keys, side="right") - 1).tolist()
        fresh = sorted({g for g in groups if g not in self.segment})
        if fresh:
            g_arr = np.asarray(fresh, dtype=np.int64)
            at = np.maximum(events.group_start_step[g_arr], 0)
            cols = self._columns([0.0] * len(fresh), [-self.inf] * len(fresh))
            self.segment.update(zip(fresh, cols, strict=True))
            self._define(cols, events.counts_at(at, events.group_pair[g_arr]), None, fresh)
        pairs = list(dict.fromkeys(p for _, p in constraints if p not in self.pair_slack))  # first-use order
        self.pair_slack.update(zip(pairs, self._columns([1.0] * len(pairs), [0.0] * len(pairs)), strict=True))
        index: list[int] = []
        for (t, p), g in zip(constraints, groups, strict=True):
            index += (self.step_level[t], self.segment[g], self.pair_slack[p])
        m = len(constraints)
        self.highs.addRows(
            m, np.zeros(m), np.full(m, self.inf), 3 * m, np.arange(0, 3 * m, 3, dtype=np.int32),
            np.asarray(index, dtype=np.int32), np.tile([1.0, -1.0, 1.0], m),
        )  # fmt: skip
        self.rows += constraints
        self.row_segment += groups
        for g in groups:
            self.uses[g] = self.uses.get(g, 0) + 1

    def drop(self, positions: Sequence[int]) -> None:
        """Delete constraint rows (model row positions), and the columns z_s (with their definitions) of
        the segments no constraint row uses any more: they are about half the non-zeros otherwise. A
        segment needed again later is defined again."""
        import highspy
        import numpy as np

        orphans = set()
        for j in positions:
            g = self.row_segment[j]
            self.uses[g] -= 1
            if not self.uses[g]:
                orphans.add(g)
        # only basic z_s (free columns are, but for degenerate bases): deleting a basic column with its
        # row keeps the warm-start basis valid
        status = self.highs.getBasis().col_status
        orphans = {g for g in orphans if status[self.segment[g]] == highspy.HighsBasisStatus.kBasic}
        rows = sorted(
            {*positions, *(j for j, g in enumerate(self.row_segment) if g in orphans and self.rows[j] is None)}
        )
        self.highs.deleteRows(len(rows), np.asarray(rows, dtype=np.int32))
        gone = set(rows)
        self.rows = [key for j, key in enumerate(self.rows) if j not in gone]
        self.row_segment = [g for j, g in enumerate(self.row_segment) if j not in gone]
        if not orphans:
            return
        cols = np.asarray(sorted(self.segment[g] for g in orphans), dtype=np.int32)
        self.highs.deleteCols(len(cols), cols)
        # HiGHS calls a basis invalid once a basic column is deleted; one basic column went with each
        # deleted definition row (whose equality is nonbasic), so the statuses still form a basis
        basis = self.highs.getBasis()
        if not basis.valid:
            basis.valid = True
            self.highs.setBasis(basis)
        for g in orphans:
            del self.segment[g], self.uses[g]
        for table in (self.step_slack, self.step_level, self.pair_slack, self.segment):
            keys = list(table)
            old = np.fromiter(table.values(), dtype=np.int64, count=len(keys))
            table.update(zip(keys, (old - np.searchsorted(cols, old)).tolist(), strict=True))


class _Cover:
    """The LP for fixed weights a: min sum v_t + sum v_p subject to v_t + v_p >= d_tp(a) for every step t and
    competing pair p (d_tp(a) = sum_i a_i (c_i[p](t) - c_i[m(t)](t))), v >= 0: a bipartite vertex cover,
    whose dual is a max-weight matching of steps and pairs.

    Its rows have two entries and no weight columns, so a simplex iteration costs far less than in the
    main LP. It is solved lazily with the same sweep, in a HiGHS model of its own that keeps its rows
    from call to call: new weights only change the right-hand sides, so the last basis stays dual
    feasible and the dual simplex warm-starts. Two uses in the phases it drives:

    - Rows for the main LP: the rows with a non-zero dual (the matching) are the constraints that bind at
      these weights. Adding those instead of the sweep's worst violations takes the main LP to its
      optimum in about 20 rounds instead of hundreds (T = 29,744 on 30 categories: 22 vs 664 rounds).
    - A certificate: at the main LP's weights the cover is a feasible solution of the full LP, so its
      objective is an upper bound, and the main LP (a subset of the rows) is a lower bound. Equal
      within ``GAP``, the main LP's weights are optimal. This skips the degenerate tail where the main
      LP's own slacks keep violating rows that the optimum does not need.

    Its sweeps look for up to 2**8 - 1 violated steps per segment (``COVER_SPLIT_DEPTH``), not 15 as the
    main LP's: with one row per pair and round (``COVER_PER_PAIR``) and two per step, a pair can only
    take a step that no other pair has filled, and the worst steps of the segments are the same few
    steps with the smallest theta_t + v_t. Searching 15 per segment, the cover's first call of the last
    phase at T = 29,744 (30 categories) spent 260 of its 360 rounds adding 30 to 500 rows each, with
    thousands of violated segments piled on 40 to 300 steps; searching 255, it takes 108 rounds, most of
    them full (HiGHS 50 -> 16 s, 331,678 -> 171,001 iterations, sweeps 18 -> 10 s).

    It drives the last ``COVER_PHASES`` phases, never the first: at the uniform starting weights its own
    lazy solve costs more than it saves (T = 1,000 in one phase: 2.1 s vs 0.9 s without it). The cover
    keeps its rows from one phase to the next (before it pruned them, T = 29,744: 334 s with the last two
    phases, 378-401 s with the last one only; T = 10,000: 24.6 vs 22.1 s)."""

    def __init__(self, events: _Events) -> None:
        import highspy
        import numpy as np

        self.events = events
        self.inf = highspy.kHighsInf
        self.highs = _quiet_highs()
        for option, value in (("random_seed", 0), ("threads", 1), ("simplex_dual_edge_weight_strategy", 1)):
            self.highs.setOptionValue(option, value)
        self.step_slack: dict[int, int] = {}  # step -> column of v_t
        self.pair_slack: dict[int, int] = {}  # pair -> column of v_p
        # per model row, in model order: its step and pair, whether it may be pruned (never pruned before),
        # and its dual in the last solve
        self.row_step = np.zeros(0, dtype=np.int64)
        self.row_pair = np.zeros(0, dtype=np.int64)
        self.droppable = np.zeros(0, dtype=bool)
        self.duals = np.zeros(0)
        self.known: set[int] = set()  # row keys (_Events.row_key)
        self.blocks: list[npt.NDArray[np.float64]] = []  # per added block of rows: c[p](t) - c[m(t)](t), (rows, n)
        self.diffs = np.zeros((0, events.n))
        self.dropped: set[int] = set()  # row keys pruned once (a row found violated again stays for good)
        self.objective = 0.0  # of the last solve
        self.iterations = 0

    def _columns(self, keys: Sequence[int], table: dict[int, int]) -> None:
        import numpy as np

        fresh = sorted({k for k in keys if k not in table})
        first, m = int(self.highs.getNumCol()), len(fresh)
        if m:
            self.highs.addCols(
                m, np.ones(m), np.zeros(m), np.full(m, self.inf), 0,
                np.zeros(m, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0),
            )  # fmt: skip
            table.update(zip(fresh, range(first, first + m), strict=True))

    def _add(self, rows: Sequence[tuple[int, int]], weights: npt.NDArray[np.float64]) -> None:
        import numpy as np

        events, m = self.events, len(rows)
        steps = np.fromiter((t for t, _ in rows), dtype=np.int64, count=m)
        pairs = np.fromiter((p for _, p in rows), dtype=np.int64, count=m)
        self._columns(steps.tolist(), self.step_slack)
        self._columns(pairs.tolist(), self.pair_slack)
        diff = events.counts_at(steps, pairs) - events.counts_at(steps, events.merged[steps])
        self.blocks.append(diff)
        lower = diff @ weights
        index = np.empty(2 * m, dtype=np.int32)
        index[0::2] = [self.step_slack[t] for t, _ in rows]
        index[1::2] = [self.pair_slack[p] for _, p in rows]
        self.highs.addRows(
            m, lower, np.full(m, self.inf), 2 * m, np.arange(0, 2 * m, 2, dtype=np.int32), index, np.ones(2 * m)
        )
        keys = (pairs * events.stride + steps).tolist()  # _Events.row_key
        self.row_step = np.concatenate([self.row_step, steps])
        self.row_pair = np.concatenate([self.row_pair, pairs])
        self.droppable = np.concatenate([self.droppable, [k not in self.dropped for k in keys]]).astype(bool)
        self.duals = np.concatenate([self.duals, np.zeros(m)])
        self.known.update(keys)

    def _diffs(self) -> Any:
        """Every row's c[p](t) - c[m(t)](t), in model order."""
        import numpy as np

        if self.blocks:
            self.diffs = np.concatenate([self.diffs, *self.blocks])
            self.blocks = []
        return self.diffs

    def _prune(self) -> None:
        """Delete the rows whose slack is basic (zero dual; the basis stays valid), each row once, as the
        main LP does, but only ``COVER_PRUNE_MIN`` or more at a time: the model no longer holds every row
        ever added (~280,000 at T = 29,744). Same hour, same instance: T = 29,744 359.6 -> 223.0 s
        (cover 282 -> 157 s; at 20,000 rows 258.8 s), T = 10,000 25.4 vs 26.1 s (at 500 rows: slower).
        Counting only the rows strictly above their bound (basic for sure) to skip reading the basis
        pruned too late: HiGHS 40 -> 73 s in the cover's first call at T = 29,744."""
        import highspy
        import numpy as np

        status = self.highs.getBasis().row_status
        basic = highspy.HighsBasisStatus.kBasic
        drop = np.flatnonzero(np.fromiter((s == basic for s in status), dtype=bool, count=len(status)) & self.droppable)
        if len(drop) < max(PRUNE_MIN, COVER_PRUNE_MIN):
            return
        self.highs.deleteRows(len(drop), drop.astype(np.int32))
        keep = np.ones(len(self.row_step), dtype=bool)
        keep[drop] = False
        gone = (self.row_pair[drop] * self.events.stride + self.row_step[drop]).tolist()  # _Events.row_key
        self.known.difference_update(gone)
        self.dropped.update(gone)
        self.diffs = self._diffs()[keep]
        self.row_step, self.row_pair = self.row_step[keep], self.row_pair[keep]
        self.droppable, self.duals = self.droppable[keep], self.duals[keep]

    def _run(self) -> tuple[Any, tuple[Any, Any]]:
        """Solve (and prune); the step slacks (dense over steps) and the non-zero pair slacks (by pair)."""
        import numpy as np

        self.highs.run()
        status = self.highs.modelStatusToString(self.highs.getModelStatus())
        if status != "Optimal":
            raise SolveError(f"the mixture LP could not be solved: HiGHS says {status!r} for fixed weights")
        self.iterations += int(self.highs.getInfo().simplex_iteration_count)
        solution = self.highs.getSolution()
        x = np.asarray(solution.col_value)
        self.objective = float(self.highs.getInfo().objective_function_value)
        self.duals = np.asarray(solution.row_dual)  # pruning keeps the rows with a non-zero dual
        self._prune()
        return _slacks(x, self.step_slack, self.pair_slack, self.events.steps_total)

    def solve(
        self, weights: npt.NDArray[np.float64], first_step: int, last_step: int
    ) -> tuple[float, list[tuple[int, int]]]:
        """The optimum for these weights over steps [first_step, last_step), and the rows of its matching."""
        import numpy as np

        events = self.events
        slack_step, slack_pair = np.zeros(events.steps_total), (np.zeros(0, dtype=np.int64), np.zeros(0))
        self.objective, self.duals = 0.0, np.zeros(len(self.row_step))  # no row violated at zero slacks: 0
        if m := len(self.row_step):
            self.highs.changeRowsBounds(m, np.arange(m, dtype=np.int32), self._diffs() @ weights, np.full(m, self.inf))
            slack_step, slack_pair = self._run()
        values = events.group_values(weights)  # the weights are fixed: every sweep of this call shares them
        while True:
            rows, _ = _sweep(
                events, weights, slack_step, slack_pair, first_step, last_step, COVER_PER_STEP, COVER_ROUND, self.known,
                COVER_PER_PAIR, values, COVER_SPLIT_DEPTH,
            )  # fmt: skip
            if not rows:
                break
            self._add(rows, weights)
            slack_step, slack_pair = self._run()
        matched = np.flatnonzero(np.abs(self.duals) > 1e-9)  # the matching: the rows with a non-zero dual
        return self.objective, list(zip(self.row_step[matched].tolist(), self.row_pair[matched].tolist(), strict=True))


def solve_mixture(
    categories: Sequence[ReplayCounts],
    merged: Sequence[int],
    *,
    first_step: int = 0,
    per_step: int = 2,
    per_pair: int = 1,
    per_round: int = 500,
    max_rounds: int = 1000,
    prune: bool = True,
    phased: bool = True,
    use_cover: bool = True,
    progress: Callable[[dict[str, float]], None] | None = None,
) -> LpResult:
    """Mixture weights (in the order of ``categories``) that best explain the merge order ``merged``
    (pair keys, one per step). Constraints are only written for steps >= ``first_step``.

    The LP lives in one HiGHS model (``_Model``): each round appends the new columns and rows and
    re-optimises from the previous basis (dual simplex warm start), as cutting-plane methods do.
    ``use_cover``: the last ``COVER_PHASES`` phases (never the first) take their rows from, and end by the
    certificate of, the fixed-weights cover (``_Cover``); without it, every phase takes its rows from the
    sweep of the main LP's own solution (the same optimum).
    """
    import highspy
    import numpy as np

    started = time.monotonic()
    events = _Events(categories, merged)
    n = len(categories)
    steps = len(merged)
    model = _Model(events)
    weights = np.full(n, 1.0 / n)
    slack_step = np.zeros(steps)
    slack_pair = (np.zeros(0, dtype=np.int64), np.zeros(0))
    constraints: set[int] = set()  # pair * stride + step of the rows in the model
    added_all: list[tuple[int, int]] = []
    dropped_once: set[int] = set()
    status, objective = "no constraint was violated", 0.0
    history: list[dict[str, float]] = []
    sweep_seconds = solver_seconds = cover_seconds = 0.0
    iterations = ipm_iterations = rounds = left = 0
    limits = _phases(first_step, steps) if phased else [steps]
    phase, converged = 0, False
    cover: _Cover | None = None
    solved_in_phase = False  # the main LP was solved since this phase began
    while rounds < max_rounds:
        added: list[tuple[int, int]] = []
        phase_done = False
        if use_cover and phase >= max(1, len(limits) - COVER_PHASES):  # never the first phase: see _Cover
            clock = time.monotonic()
            cover = cover or _Cover(events)
            upper, matched = cover.solve(weights, first_step, limits[phase])
            cover_seconds += time.monotonic() - clock
            # the cover's solution is feasible for this phase's full LP, and the main LP is a relaxation of
            # it: equal objectives prove these weights optimal for the phase's merges
            phase_done = solved_in_phase and upper <= objective + GAP * max(1.0, objective)
            added = [row for row in matched if events.row_key(*row) not in constraints]
        if not phase_done and not added:  # no cover, or its rows are all in: the main LP's own sweep decides
            clock = time.monotonic()
            added, left = _sweep(
                events, weights, slack_step, slack_pair, first_step, limits[phase], per_step, per_round, constraints,
                per_pair,
            )  # fmt: skip
            sweep_seconds += time.monotonic() - clock
            phase_done = not added
        if phase_done:
            if phase + 1 < len(limits):
                phase += 1
                solved_in_phase = False
                continue
            left, converged = 0, True
            break
        rounds += 1
        solved_in_phase = True
        left = max(0, left - len(added))
        # A round that at least doubles the model's constraint rows (the first round of a phase driven by
        # the cover brings the matching rows of thousands of new steps) is solved from scratch by the
        # interior point method, whose crossover leaves a basis for the next rounds' warm starts. The dual
        # simplex, warm-started from the last phase's basis, took 48.8 s for the 14,955 rows of the last
        # phase's first round at T = 29,744 (30 categories); IPM on the same model 6.6 s.
        interior = len(added) >= max(IPM_MIN_ROWS, len(constraints))
        constraints.update(events.row_key(t, p) for t, p in added)
        added_all += added
        model.add(added)
        clock = time.monotonic()
        if interior:
            model.highs.setOptionValue("solver", "ipm")
            model.highs.run()
            model.highs.setOptionValue("solver", "simplex")
            info = model.highs.getInfo()
            ipm_iterations += int(info.ipm_iteration_count)
            iterations += int(info.simplex_iteration_count) + int(info.crossover_iteration_count)
        if not interior or model.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            model.highs.run()  # (after IPM: it stopped short of the optimum, the simplex finishes)
            iterations += int(model.highs.getInfo().simplex_iteration_count)
        solver_seconds += time.monotonic() - clock
        model_status = model.highs.modelStatusToString(model.highs.getModelStatus())
        if model_status != "Optimal":
            raise SolveError(
                f"the mixture LP could not be solved: HiGHS says {model_status!r} after {rounds} rounds",
                hint="try fewer --merges or check that the categories' samples are not empty",
            )
        info = model.highs.getInfo()
        solution = model.highs.getSolution()
        x = np.asarray(solution.col_value)
        weights = np.maximum(x[:n], 0.0)
        weights = weights / (weights.sum() or 1.0)
        slack_step, slack_pair = _slacks(x, model.step_slack, model.pair_slack, steps)
        if prune:
            # Drop the constraint rows whose slack is basic (their dual is zero: removing them keeps
            # this optimum, and the basis stays valid) that were never dropped before: the model
            # stays small, and a dropped row the sweep finds violated again is re-added for good, so
            # the loop still ends, and ends at the optimum of the full LP. Basic, not just non-binding:
            # the LP is very degenerate (at T = 10,000 on 30 categories, 34,000 rows hold with equality
            # and 7,400 have a non-zero dual); dropping the degenerate ones too keeps 24,000 rows
            # instead of 38,000 (HiGHS time -19%).
            row_status = model.highs.getBasis().row_status
            basic = highspy.HighsBasisStatus.kBasic
            drop, keys = [], []
            for j, row in enumerate(model.rows):
                if row is not None and row_status[j] == basic and (k := events.row_key(*row)) not in dropped_once:
                    drop.append(j)
                    keys.append(k)
            if len(drop) >= PRUNE_MIN:
                constraints.difference_update(keys)
                dropped_once.update(keys)
                model.drop(drop)
        previous, status, objective = objective, "optimal", float(info.objective_function_value)
        history.append(
            {
                "round": rounds,
                "phase_steps": limits[phase],
                "constraints": len(added_all),
                "rows": sum(key is not None for key in model.rows),
                "objective": objective,
                "sweep_s": round(sweep_seconds, 3),
                "solver_s": round(solver_seconds, 3),
                "cover_s": round(cover_seconds, 3),
                "iterations": iterations,
            }
        )
        if progress is not None:
            progress(history[-1])
        if phase + 1 < len(limits) and objective - previous < PHASE_STOP * objective:
            # An earlier phase only warm-starts the next one: its tail of rounds, each re-optimising
            # small changes, is skipped. The last phase always runs until no constraint is violated.
            phase += 1
            solved_in_phase = False
    if not converged:
        status = "stopped: round limit reached with violated constraints left"
    return LpResult(
        weights=[float(w) for w in weights],
        status=status,
        objective=objective,
        rounds=rounds,
        constraints=len(added_all),
        rows=sum(key is not None for key in model.rows),
        seconds=round(time.monotonic() - started, 3),
        sweep_seconds=round(sweep_seconds, 3),
        solver_seconds=round(solver_seconds, 3),
        iterations=iterations,
        cover_seconds=round(cover_seconds, 3),
        cover_iterations=cover.iterations if cover is not None else 0,
        ipm_iterations=ipm_iterations,
        violations_left=left,
        history=history,
        added=added_all,
    )
