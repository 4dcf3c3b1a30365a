"""The main LP in HiGHS: weights, slacks and the constraint rows added so far, warm-started round to round."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tokcli.mixture.lp import highs
from tokcli.mixture.lp.events import Events


class MainModel:
    """The LP in HiGHS, in a sparse form equivalent to the rows of :mod:`tokcli.mixture.lp`. Mixture
    counts are shared: a step's chosen-merge level y_t = sum_i a_i c_i[m(t)](t) + v_t, and the count of
    pair p over one segment (the steps where no category's count of p changes) z_s = sum_i a_i c_i[p](s),
    are columns defined once by an equality row; each constraint (t, p) is then the 3-entry row
    y_t - z_s + v_p >= 0. Thousands of constraints share a few steps and segments, so the weight columns
    appear in far fewer rows (about 5x fewer non-zeros; docs/benchmarks.md)."""

    def __init__(self, events: Events) -> None:
        import highspy
        import numpy as np

        self.events = events
        self.n = n = events.n
        self.inf = highspy.kHighsInf
        self.highs = highs.new_highs()
        self.highs.setOptionValue("random_seed", 0)
        # the dual simplex runs serially anyway; HiGHS would otherwise start a worker thread per CPU,
        # past --threads (tokcli.resources)
        self.highs.setOptionValue("threads", 1)
        # Devex pricing: each round adds rows to a warm-started model, and the default (dual steepest
        # edge) recomputes its weights for the whole basis at every run (a solve per row); Devex needs
        # more iterations but cheaper ones.
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
        self.segment: dict[int, int] = {}  # segment (group of Events) -> column of z_s
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

    def _define_steps(self, constraints: Sequence[tuple[int, int]]) -> None:
        """Columns v_t and y_t (with y_t's definition) for the constraints' steps that have none yet."""
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

    def _define_segments(self, groups: Sequence[int]) -> None:
        """Columns z_s (with their definitions) for the segments that have none yet."""
        import numpy as np

        events = self.events
        fresh = sorted({g for g in groups if g not in self.segment})
        if fresh:
            g_arr = np.asarray(fresh, dtype=np.int64)
            at = np.maximum(events.group_start_step[g_arr], 0)
            cols = self._columns([0.0] * len(fresh), [-self.inf] * len(fresh))
            self.segment.update(zip(fresh, cols, strict=True))
            self._define(cols, events.counts_at(at, events.group_pair[g_arr]), None, fresh)

    def add(self, constraints: Sequence[tuple[int, int]]) -> None:
        """Append the constraint rows (step, pair), with the columns and definitions they need."""
        import numpy as np

        events = self.events
        self._define_steps(constraints)
        keys = np.asarray([p * events.stride + t for t, p in constraints], dtype=np.int64)
        groups = (np.searchsorted(events.group_key, keys, side="right") - 1).tolist()
        self._define_segments(groups)
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
        if orphans:
            self._drop_segment_columns(orphans)

    def _drop_segment_columns(self, orphans: set[int]) -> None:
        """Delete the columns z_s of ``orphans`` (their definition rows are gone) and renumber the rest."""
        import numpy as np

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
