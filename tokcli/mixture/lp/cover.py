"""The fixed-weights cover: the mixture LP with the weights held fixed, solved lazily in a cheap model of
its own, which drives the last phases of :func:`tokcli.mixture.lp.solve_mixture`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tokcli.mixture.lp import highs, tuning
from tokcli.mixture.lp.events import Events
from tokcli.mixture.lp.result import SolveError
from tokcli.mixture.lp.sweep import sweep

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class Cover:
    """The LP for fixed weights a: min sum v_t + sum v_p subject to v_t + v_p >= d_tp(a) for every step t and
    competing pair p (d_tp(a) = sum_i a_i (c_i[p](t) - c_i[m(t)](t))), v >= 0: a bipartite vertex cover,
    whose dual is a max-weight matching of steps and pairs.

    Its rows have two entries and no weight columns, so a simplex iteration costs far less than in the
    main LP. It is solved lazily with the same sweep, in a HiGHS model of its own that keeps its rows
    from call to call: new weights only change the right-hand sides, so the last basis stays dual
    feasible and the dual simplex warm-starts. Two uses in the phases it drives:

    - Rows for the main LP: the rows with a non-zero dual (the matching) are the constraints that bind at
      these weights. Adding those instead of the sweep's worst violations takes the main LP to its
      optimum in a few dozen rounds instead of hundreds.
    - A certificate: at the main LP's weights the cover is a feasible solution of the full LP, so its
      objective is an upper bound, and the main LP (a subset of the rows) is a lower bound. Equal
      within ``tuning.GAP``, the main LP's weights are optimal. This skips the degenerate tail where the
      main LP's own slacks keep violating rows that the optimum does not need.

    Its sweeps look deeper into each violated segment than the main LP's (``tuning.COVER_SPLIT_DEPTH``):
    with one row per pair and round (``tuning.COVER_PER_PAIR``) and two per step, a pair can only take a
    step that no other pair has filled, and the worst steps of the segments are the same few steps with
    the smallest theta_t + v_t; a shallow search leaves a long tail of nearly empty rounds.

    It drives the last ``tuning.COVER_PHASES`` phases, never the first: at the uniform starting weights
    its own lazy solve costs more than it saves. It keeps its rows from one phase to the next. The
    measurements behind each choice: docs/benchmarks.md, "Mixture inference", stops 14 to 16."""

    def __init__(self, events: Events) -> None:
        import highspy
        import numpy as np

        self.events = events
        self.inf = highspy.kHighsInf
        self.highs = highs.new_highs()
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
        self.known: set[int] = set()  # row keys (Events.row_key)
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
        keys = (pairs * events.stride + steps).tolist()  # Events.row_key
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
        main LP does, but only ``tuning.COVER_PRUNE_MIN`` or more at a time: otherwise the model holds
        every row ever added, and its iterations slow down. The basis is read after every solve: counting
        only the rows strictly above their bound (basic for sure) instead pruned too late."""
        import highspy
        import numpy as np

        status = self.highs.getBasis().row_status
        basic = highspy.HighsBasisStatus.kBasic
        drop = np.flatnonzero(np.fromiter((s == basic for s in status), dtype=bool, count=len(status)) & self.droppable)
        if len(drop) < max(tuning.PRUNE_MIN, tuning.COVER_PRUNE_MIN):
            return
        self.highs.deleteRows(len(drop), drop.astype(np.int32))
        keep = np.ones(len(self.row_step), dtype=bool)
        keep[drop] = False
        gone = (self.row_pair[drop] * self.events.stride + self.row_step[drop]).tolist()  # Events.row_key
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
        return highs.read_slacks(x, self.step_slack, self.pair_slack, self.events.steps_total)

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
            rows, _ = sweep(
                events, weights, slack_step, slack_pair, first_step, last_step, tuning.COVER_PER_STEP,
                tuning.COVER_ROUND, self.known, tuning.COVER_PER_PAIR, values, tuning.COVER_SPLIT_DEPTH,
            )  # fmt: skip
            if not rows:
                break
            self._add(rows, weights)
            slack_step, slack_pair = self._run()
        matched = np.flatnonzero(np.abs(self.duals) > 1e-9)  # the matching: the rows with a non-zero dual
        return self.objective, list(zip(self.row_step[matched].tolist(), self.row_pair[matched].tolist(), strict=True))
