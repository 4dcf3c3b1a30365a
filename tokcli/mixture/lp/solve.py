"""The cutting-plane loop: solve, add the violated (or the cover's binding) constraints, re-solve, by phases."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from tokcli.mixture.lp import highs, tuning
from tokcli.mixture.lp.cover import Cover
from tokcli.mixture.lp.events import Events
from tokcli.mixture.lp.model import MainModel
from tokcli.mixture.lp.result import LpResult, SolveError
from tokcli.mixture.lp.sweep import sweep
from tokcli.mixture.replay import ReplayCounts


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

    The LP lives in one HiGHS model (:class:`~tokcli.mixture.lp.model.MainModel`): each round appends the
    new columns and rows and re-optimises from the previous basis (dual simplex warm start), as
    cutting-plane methods do. ``use_cover``: the last ``tuning.COVER_PHASES`` phases (never the first)
    take their rows from, and end by the certificate of, the fixed-weights cover
    (:class:`~tokcli.mixture.lp.cover.Cover`); without it, every phase takes its rows from the sweep of
    the main LP's own solution (the same optimum).
    """
    started = time.monotonic()
    events = Events(categories, merged)
    limits = phases(first_step, len(merged)) if phased else [len(merged)]
    loop = CuttingPlanes(events, limits, first_step, per_step, per_pair, per_round, prune, use_cover, progress)
    loop.run(max_rounds)
    return loop.result(started)


def phases(first_step: int, steps: int) -> list[int]:
    """Growing prefixes of the merge list, each solved to optimality before the next (the last is all
    steps): the weights found on the first merges, which carry most of the signal, warm-start the sweep
    of the longer list, so far fewer constraints are added for weights that are far from the optimum.
    The prefixes shrink by ``tuning.PHASE_GROWTH`` from the full list down to about ``tuning.PHASE_START``
    merges: every phase ends with a tail of rounds that re-optimise small changes, so the phases are few
    and the last but one is far from the last (never 27,000 then 30,000)."""
    limits = [steps]
    while (limits[0] - first_step) // tuning.PHASE_GROWTH >= tuning.PHASE_START:
        limits.insert(0, first_step + (limits[0] - first_step) // tuning.PHASE_GROWTH)
    return limits


class CuttingPlanes:
    """The state of one :func:`solve_mixture` call: the current weights and slacks, the rows in the main
    LP, the phase, and the counters its result reports. :meth:`run` is the loop; each round is a few
    named steps (which rows to add, add and solve, read the solution, prune, record)."""

    def __init__(
        self,
        events: Events,
        limits: list[int],
        first_step: int,
        per_step: int,
        per_pair: int,
        per_round: int,
        prune: bool,
        use_cover: bool,
        progress: Callable[[dict[str, float]], None] | None,
    ) -> None:
        import numpy as np

        self.events, self.limits, self.first_step = events, limits, first_step
        self.per_step, self.per_pair, self.per_round = per_step, per_pair, per_round
        self.prune, self.use_cover, self.progress = prune, use_cover, progress
        self.n, self.steps = events.n, events.steps_total
        self.model = MainModel(events)
        self.cover: Cover | None = None
        self.weights = np.full(self.n, 1.0 / self.n)
        self.slack_step = np.zeros(self.steps)
        self.slack_pair = (np.zeros(0, dtype=np.int64), np.zeros(0))
        self.constraints: set[int] = set()  # pair * stride + step of the rows in the model
        self.added_all: list[tuple[int, int]] = []
        self.dropped_once: set[int] = set()
        self.status, self.objective = "no constraint was violated", 0.0
        self.history: list[dict[str, float]] = []
        self.sweep_seconds = self.solver_seconds = self.cover_seconds = 0.0
        self.iterations = self.ipm_iterations = self.rounds = self.left = 0
        self.phase, self.converged = 0, False
        self.solved_in_phase = False  # the main LP was solved since this phase began

    def run(self, max_rounds: int) -> None:
        """Rounds until the last phase has no violated constraint left (or ``max_rounds``)."""
        while self.rounds < max_rounds:
            added, phase_done = self.rows_to_add()
            if phase_done:
                if self.phase + 1 < len(self.limits):
                    self.next_phase()
                    continue
                self.left, self.converged = 0, True
                break
            previous = self.objective
            interior = len(added) >= max(tuning.IPM_MIN_ROWS, len(self.constraints))  # see solve_round
            self.add_rows(added)
            self.solve_round(interior)
            self.read_solution()
            if self.prune:
                self.prune_rows()
            self.record()
            if self.phase + 1 < len(self.limits) and self.objective - previous < tuning.PHASE_STOP * self.objective:
                # An earlier phase only warm-starts the next one: its tail of rounds, each re-optimising
                # small changes, is skipped. The last phase always runs until no constraint is violated.
                self.next_phase()

    def next_phase(self) -> None:
        self.phase += 1
        self.solved_in_phase = False

    def rows_to_add(self) -> tuple[list[tuple[int, int]], bool]:
        """The rows of the next round, and whether this phase is done (then the rows do not matter)."""
        added: list[tuple[int, int]] = []
        phase_done = False
        if self.use_cover and self.phase >= max(1, len(self.limits) - tuning.COVER_PHASES):  # never the first
            added, phase_done = self.cover_rows()
        if not phase_done and not added:  # no cover, or its rows are all in: the main LP's own sweep decides
            clock = time.monotonic()
            added, self.left = sweep(
                self.events, self.weights, self.slack_step, self.slack_pair, self.first_step, self.limits[self.phase],
                self.per_step, self.per_round, self.constraints, self.per_pair,
            )  # fmt: skip
            self.sweep_seconds += time.monotonic() - clock
            phase_done = not added
        return added, phase_done

    def cover_rows(self) -> tuple[list[tuple[int, int]], bool]:
        """The rows of the cover's matching at the current weights not in the main LP yet, and whether the
        cover proves the phase done."""
        clock = time.monotonic()
        self.cover = self.cover or Cover(self.events)
        upper, matched = self.cover.solve(self.weights, self.first_step, self.limits[self.phase])
        self.cover_seconds += time.monotonic() - clock
        # the cover's solution is feasible for this phase's full LP, and the main LP is a relaxation of
        # it: equal objectives prove these weights optimal for the phase's merges
        done = self.solved_in_phase and upper <= self.objective + tuning.GAP * max(1.0, self.objective)
        return [row for row in matched if self.events.row_key(*row) not in self.constraints], done

    def add_rows(self, added: list[tuple[int, int]]) -> None:
        self.rounds += 1
        self.solved_in_phase = True
        self.left = max(0, self.left - len(added))
        self.constraints.update(self.events.row_key(t, p) for t, p in added)
        self.added_all += added
        self.model.add(added)

    def solve_round(self, interior: bool) -> None:
        """Re-optimise the main LP. A round that at least doubles the model's constraint rows (the first
        round of a phase driven by the cover brings the matching rows of thousands of new steps) is solved
        from scratch by the interior point method, whose crossover leaves a basis for the next rounds'
        warm starts; the dual simplex, warm-started from the last phase's basis, is far slower there."""
        import highspy

        model_highs = self.model.highs
        clock = time.monotonic()
        if interior:
            model_highs.setOptionValue("solver", "ipm")
            model_highs.run()
            model_highs.setOptionValue("solver", "simplex")
            info = model_highs.getInfo()
            self.ipm_iterations += int(info.ipm_iteration_count)
            self.iterations += int(info.simplex_iteration_count) + int(info.crossover_iteration_count)
        if not interior or model_highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            model_highs.run()  # (after IPM: it stopped short of the optimum, the simplex finishes)
            self.iterations += int(model_highs.getInfo().simplex_iteration_count)
        self.solver_seconds += time.monotonic() - clock
        model_status = model_highs.modelStatusToString(model_highs.getModelStatus())
        if model_status != "Optimal":
            raise SolveError(
                f"the mixture LP could not be solved: HiGHS says {model_status!r} after {self.rounds} rounds",
                hint="try fewer --merges or check that the categories' samples are not empty",
            )

    def read_solution(self) -> None:
        """Weights, slacks and objective from the main LP's solution."""
        import numpy as np

        model_highs = self.model.highs
        objective = float(model_highs.getInfo().objective_function_value)
        x = np.asarray(model_highs.getSolution().col_value)
        weights = np.maximum(x[: self.n], 0.0)
        self.weights = weights / (weights.sum() or 1.0)
        model = self.model
        self.slack_step, self.slack_pair = highs.read_slacks(x, model.step_slack, model.pair_slack, self.steps)
        self.status, self.objective = "optimal", objective

    def prune_rows(self) -> None:
        """Drop the constraint rows whose slack is basic (their dual is zero: removing them keeps this
        optimum, and the basis stays valid) that were never dropped before: the model stays small, and a
        dropped row the sweep finds violated again is re-added for good, so the loop still ends, and ends
        at the optimum of the full LP. Basic, not just non-binding: the LP is very degenerate (most rows
        that hold with equality have a zero dual), and dropping the degenerate ones too keeps the model
        far smaller."""
        import highspy

        row_status = self.model.highs.getBasis().row_status
        basic = highspy.HighsBasisStatus.kBasic
        drop, keys = [], []
        for j, row in enumerate(self.model.rows):
            if row is not None and row_status[j] == basic and (k := self.events.row_key(*row)) not in self.dropped_once:
                drop.append(j)
                keys.append(k)
        if len(drop) >= tuning.PRUNE_MIN:
            self.constraints.difference_update(keys)
            self.dropped_once.update(keys)
            self.model.drop(drop)

    def record(self) -> None:
        self.history.append(
            {
                "round": self.rounds,
                "phase_steps": self.limits[self.phase],
                "constraints": len(self.added_all),
                "rows": self.rows_kept(),
                "objective": self.objective,
                "sweep_s": round(self.sweep_seconds, 3),
                "solver_s": round(self.solver_seconds, 3),
                "cover_s": round(self.cover_seconds, 3),
                "iterations": self.iterations,
            }
        )
        if self.progress is not None:
            self.progress(self.history[-1])

    def rows_kept(self) -> int:
        return sum(key is not None for key in self.model.rows)

    def result(self, started: float) -> LpResult:
        status = self.status
        if not self.converged:
            status = "stopped: round limit reached with violated constraints left"
        return LpResult(
            weights=[float(w) for w in self.weights],
            status=status,
            objective=self.objective,
            rounds=self.rounds,
            constraints=len(self.added_all),
            rows=self.rows_kept(),
            seconds=round(time.monotonic() - started, 3),
            sweep_seconds=round(self.sweep_seconds, 3),
            solver_seconds=round(self.solver_seconds, 3),
            iterations=self.iterations,
            cover_seconds=round(self.cover_seconds, 3),
            cover_iterations=self.cover.iterations if self.cover is not None else 0,
            ipm_iterations=self.ipm_iterations,
            violations_left=self.left,
            history=self.history,
            added=self.added_all,
        )
