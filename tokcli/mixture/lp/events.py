"""The LP's data: every category's replay counts merged into per-(pair, step) segments of the mixture count.

A pair's mixture count is piecewise constant in t: it only changes at the steps where some category's
count of it changes (the replay's diffs). A segment (a "group" here) is one pair over the steps
[start, stop) between two such changes; its mixture count under weights a is a weighted cumulative sum of
the categories' deltas, computed for every segment at once by :meth:`Events.group_values`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tokcli.mixture.lp import tuning
from tokcli.mixture.replay import ReplayCounts

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class Events:
    """All categories' counts merged into per-(pair, step) segments of the mixture count."""

    def __init__(self, categories: Sequence[ReplayCounts], merged: Sequence[int]) -> None:
        import numpy as np

        self.steps_total = steps = len(merged)
        self.stride = stride = steps + 1
        self.n = len(categories)
        self.scales = np.array([tuning.SCALE / c.total if c.total else 0.0 for c in categories])
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
        self._index_groups(pair[order])
        self._find_targets(np.asarray(merged, dtype=np.int64))

    def _index_groups(self, pair: npt.NDArray[np.int64]) -> None:
        """Group the sorted rows by (pair, step): a group's value is the cumulative sum at its last row."""
        import numpy as np

        last = np.ones(len(self.key), dtype=bool)
        last[:-1] = self.key[1:] != self.key[:-1]
        self.group_end = np.flatnonzero(last)
        self.group_key = self.key[self.group_end]
        self.group_pair = pair[self.group_end]
        self.group_start_step = self.group_key - self.group_pair * self.stride
        next_same = np.zeros(len(self.group_end), dtype=bool)
        next_same[:-1] = self.group_pair[1:] == self.group_pair[:-1]
        self.group_stop_step = np.where(next_same, np.roll(self.group_start_step, -1), self.steps_total)
        # the row where each group's pair block starts, for a per-pair cumulative sum
        first = np.ones(len(self.key), dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        block_start = np.maximum.accumulate(np.where(first, np.arange(len(self.key)), 0))
        self.group_block = block_start[self.group_end]

    def _find_targets(self, merged: npt.NDArray[np.int64]) -> None:
        """Each step's chosen merge as a group (-1: no sample has it then), and which steps give constraints."""
        import numpy as np

        self.merged = merged
        target = self.merged * self.stride + np.arange(self.steps_total)
        at = np.searchsorted(self.group_key, target, side="right") - 1
        self.target_group = np.where((at >= 0) & (self.group_pair[np.maximum(at, 0)] == self.merged), at, -1)
        # A step gives constraints only if some sample contains its merge then (as the reference). Fixed
        # here, not tested against the current weights: a merge that only zero-weight categories contain
        # still constrains, so the LP does not depend on its own solution (docs/benchmarks.md: "Step
        # eligibility fixed").
        present = self.group_values(np.ones(self.n))
        self.eligible = (self.target_group >= 0) & (present[np.maximum(self.target_group, 0)] > 0)

    def row_key(self, step: int, pair: int) -> int:
        """A (step, pair) as one int, ordered by pair then step (as ``keys`` and ``group_key``)."""
        return pair * self.stride + step

    def group_values(self, weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The mixture count of every group under ``weights``."""
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
