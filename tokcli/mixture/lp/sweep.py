"""The sweep: the constraints (step, pair) the current solution violates, worst first.

For a segment [s, e) of pair p with mixture count V (:mod:`tokcli.mixture.lp.events`), the constraints
(t, p), s <= t < e, are violated where V - v_p > theta_t := mixture[m(t)](t) + v_t; the worst one is at the
argmin of theta over [s, e) (a sparse-table range-minimum query). Each violated segment proposes that
constraint, then (to ``split_depth`` levels) the minima of the sub-ranges on either side. The most
violated are added, at most ``per_step`` per step, ``per_pair`` per pair and ``per_round`` per round.

The per-pair cap matters most: the merges the samples cannot explain all compete with the same few most
frequent pairs, and at the optimum each such pair is matched (non-zero dual) with one of those steps only
(for fixed weights the slacks are a bipartite vertex cover, dual to a max-weight matching of steps and
pairs). Adding the worst violations uncapped gives every such step rows against the same pairs, most of
which never bind; one row per pair and round, spread over distinct steps, is closer to that matching
(the defaults of :func:`tokcli.mixture.lp.solve_mixture`, 2 per step and 500 per round, were tuned with it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokcli.mixture.lp import tuning
from tokcli.mixture.lp.events import Events

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def min_table(theta: npt.NDArray[np.float64]) -> list[Any]:
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


def range_argmin(
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


def sweep(
    events: Events,
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
    ``split_depth``: levels of the search for violated steps within a segment (default ``tuning.SPLIT_DEPTH``)."""
    import numpy as np

    if values is None:
        values = events.group_values(weights)
    theta = _thresholds(events, values, slack_step, first_step)
    if not len(values) or first_step >= last_step:
        return [], 0
    level = _levels(events, values, slack_pair)
    lo = np.maximum(events.group_start_step, first_step)
    hi = np.minimum(events.group_stop_step, last_step)
    candidates = np.flatnonzero((level > float(theta.min()) + tuning.TOLERANCE) & (hi > lo))
    if not len(candidates):
        return [], 0
    depth = tuning.SPLIT_DEPTH if split_depth is None else split_depth
    segments, steps, excess, violated = _violated_steps(
        theta, level, candidates, lo[candidates], hi[candidates], depth, 8 * per_round
    )
    pairs = events.group_pair[segments]
    return select_constraints(steps, pairs, excess, known, events.stride, per_step, per_pair, per_round), violated


def _thresholds(
    events: Events, values: npt.NDArray[np.float64], slack_step: npt.NDArray[np.float64], first_step: int
) -> npt.NDArray[np.float64]:
    """theta_t = mixture[m(t)](t) + v_t per step; infinite where a step gives no constraint."""
    import numpy as np

    target = np.where(events.target_group >= 0, values[np.maximum(events.target_group, 0)], 0.0)
    theta: npt.NDArray[np.float64] = target + slack_step
    theta[:first_step] = np.inf
    theta[~events.eligible] = np.inf  # a merge no sample contains gives no constraint (as the reference)
    return theta


def _levels(
    events: Events,
    values: npt.NDArray[np.float64],
    slack_pair: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]],
) -> npt.NDArray[np.float64]:
    """Each segment's mixture count minus its pair's slack v_p (``values`` itself when no pair has one)."""
    import numpy as np

    keys, vals = slack_pair
    if not len(keys):
        return values
    # subtract each pair's slack from its segments (group_pair is sorted)
    start = np.searchsorted(events.group_pair, keys, side="left")
    count = np.searchsorted(events.group_pair, keys, side="right") - start
    at = np.repeat(start - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))
    level = values.copy()
    level[at] -= np.repeat(vals, count)
    return level


def _violated_steps(
    theta: npt.NDArray[np.float64],
    level: npt.NDArray[np.float64],
    seg: npt.NDArray[np.int64],
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    depth: int,
    head: int,
) -> tuple[Any, Any, Any, int]:
    """Violated steps of the segments ``seg`` (ranges [a, b)), worst first: the range minimum, then
    (breadth first) the minima of the sub-ranges on either side, to ``depth`` levels; a sub-range whose
    minimum is not violated holds no violation. A sub-range's violations are at most its parent's, so once
    more than ``head`` violations are found, only the sub-ranges of those above the head-th largest can
    still rank among the first. Returns each violation's segment, step and excess, and how many segments
    are violated."""
    import numpy as np

    table = min_table(theta)  # built once: every level of the splitting queries the same theta
    found_seg, found_step, found_excess = [], [], []
    for _ in range(depth):
        if not len(seg):
            break
        worst = range_argmin(theta, table, a, b)
        excess = level[seg] - theta[worst]
        ok = excess > tuning.TOLERANCE
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
    return np.concatenate(found_seg), np.concatenate(found_step), np.concatenate(found_excess), violated


def select_constraints(
    steps: Any, pairs: Any, excess: Any, known: set[int], stride: int, per_step: int, per_pair: int, per_round: int
) -> list[tuple[int, int]]:
    """The constraints (step, pair) to add, greedily by decreasing excess (ties in candidate order): not
    known yet, at most ``per_step`` per step, ``per_pair`` per pair and ``per_round`` in all. Only the
    worst few thousand are sorted unless the caps reject most of them (the first rounds of a phase have
    millions of violations, and sorting them all dominated the sweep)."""
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
            # p * stride + t: Events.row_key, written out on this hot loop
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
