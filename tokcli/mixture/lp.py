"""The mixture LP of Hayase et al. (NeurIPS 2024), solved with HiGHS and lazily added constraints.

Solved with HiGHS through ``highspy``. Variables: mixture weights a_i >= 0 with sum a_i = 1, a slack
v_t >= 0 per merge step and v_p >= 0 per pair. For every step t and every competing pair p != m(t):

    sum_i a_i (c_i[m(t)] - c_i[p]) + v_t + v_p >= 0        (c: counts at step t, normalised)

i.e. the merge the tokenizer chose must have been the most frequent pair of the mixture, up to slack;
minimise sum v_t + sum v_p. The full constraint set is huge, so constraints are added lazily: solve,
sweep all steps for the pairs violating the current solution (a max-heap of mixture counts per step,
updated with each category's diffs), add the worst few per step, re-solve; when a sweep finds no
violation the solution is optimal for the full LP.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from tokcli.errors import TokcliError
from tokcli.mixture.count import ReplayCounts

# Counts are normalised per million pairs of each category (not per pair): HiGHS's feasibility tolerance
# (1e-7) would otherwise be larger than the count differences the LP must respect.
SCALE = 1e6
TOLERANCE = 1e-6  # on the SCALE above: one part in 10^12 of a category's pairs


@dataclass
class LpResult:
    weights: list[float]
    status: str
    objective: float
    rounds: int
    constraints: int
    seconds: float
    violations_left: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


def _sweep(
    categories: Sequence[ReplayCounts],
    merged: Sequence[int],
    weights: Sequence[float],
    slack_step: dict[int, float],
    slack_pair: dict[int, float],
    first_step: int,
    per_step: int,
    known: set[tuple[int, int]],
) -> list[tuple[float, int, int]]:
    """(violation, step, pair) for the worst violated constraints of each step under ``weights`` that
    are not ``known`` yet (known ones hold up to the solver's tolerance)."""
    scales = [SCALE * w / c.total if c.total else 0.0 for w, c in zip(weights, categories, strict=True)]
    tables = [dict(c.initial) for c in categories]
    mixture: dict[int, float] = {}
    for scale, table in zip(scales, tables, strict=True):
        if scale:
            for key, count in table.items():
                mixture[key] = mixture.get(key, 0.0) + scale * count
    heap = [(-value, key) for key, value in mixture.items()]
    heapq.heapify(heap)
    found: list[tuple[float, int, int]] = []
    for t, target in enumerate(merged):
        if t >= first_step:
            floor = mixture.get(target, 0.0) + slack_step.get(t, 0.0)
            held: list[tuple[float, int]] = []
            taken = 0
            while heap and taken < per_step:
                negative, key = heap[0]
                value = mixture.get(key, 0.0)
                if -negative != value:  # stale entry
                    heapq.heappop(heap)
                    continue
                if value <= floor + TOLERANCE:
                    break
                held.append(heapq.heappop(heap))
                if key != target and (t, key) not in known:
                    excess = value - floor - slack_pair.get(key, 0.0)
                    if excess > TOLERANCE:
                        found.append((excess, t, key))
                        taken += 1
            for item in held:
                heapq.heappush(heap, item)
        for scale, table, category in zip(scales, tables, categories, strict=True):
            for key, count in category.diffs[t]:
                old = table.get(key, 0)
                table[key] = count
                if scale:
                    value = mixture.get(key, 0.0) + scale * (count - old)
                    mixture[key] = value
                    heapq.heappush(heap, (-value, key))
    return found


def _counts_at(categories: Sequence[ReplayCounts], wanted: dict[int, set[int]]) -> dict[tuple[int, int], list[float]]:
    """Normalised count of each wanted pair at each wanted step, per category (one replay of diffs)."""
    out: dict[tuple[int, int], list[float]] = {}
    steps = sorted(wanted)
    for i, category in enumerate(categories):
        table = dict(category.initial)
        norm = SCALE / category.total if category.total else 0.0
        position = 0
        for t in steps:
            while position < t:
                table.update(category.diffs[position])
                position += 1
            for key in wanted[t]:
                out.setdefault((t, key), [0.0] * len(categories))[i] = table.get(key, 0) * norm
    return out


def solve_mixture(
    categories: Sequence[ReplayCounts],
    merged: Sequence[int],
    *,
    first_step: int = 0,
    per_step: int = 10,
    per_round: int = 2000,
    max_rounds: int = 100,
) -> LpResult:
    """Mixture weights (in the order of ``categories``) that best explain the merge order ``merged``.

    The LP lives in one HiGHS model: each round appends the new slack columns and constraint rows and
    re-optimises from the previous basis (dual simplex warm start), as cutting-plane methods do.
    """
    import highspy
    import numpy as np

    started = time.monotonic()
    n = len(categories)
    inf = highspy.kHighsInf
    model = highspy.Highs()
    model.setOptionValue("output_flag", False)
    model.setOptionValue("random_seed", 0)
    no_index = np.zeros(0, dtype=np.int32)
    no_value = np.zeros(0, dtype=np.float64)
    for _ in range(n):  # mixture weights, cost 0
        model.addCol(0.0, 0.0, inf, 0, no_index, no_value)
    model.addRow(1.0, 1.0, n, np.arange(n, dtype=np.int32), np.ones(n))  # they sum to 1
    step_col: dict[int, int] = {}
    pair_col: dict[int, int] = {}

    def column(table: dict[int, int], key: int) -> int:
        if key not in table:
            table[key] = model.getNumCol()
            model.addCol(1.0, 0.0, inf, 0, no_index, no_value)  # a slack, cost 1
        return table[key]

    weights = [1.0 / n] * n
    slack_step: dict[int, float] = {}
    slack_pair: dict[int, float] = {}
    constraints: set[tuple[int, int]] = set()
    status, objective = "no constraint was violated", 0.0
    history: list[dict[str, float]] = []
    rounds = 0
    left = 0
    for rounds in range(1, max_rounds + 1):
        violated = _sweep(categories, merged, weights, slack_step, slack_pair, first_step, per_step, constraints)
        fresh = [(excess, t, p) for excess, t, p in violated if (t, p) not in constraints]
        if not fresh:
            left = 0
            break
        fresh.sort(reverse=True)
        added = [(t, p) for _, t, p in fresh[:per_round]]
        left = max(0, len(fresh) - per_round)
        constraints.update(added)
        wanted: dict[int, set[int]] = {}
        for t, p in added:
            wanted.setdefault(t, set()).update((p, merged[t]))
        counts = _counts_at(categories, wanted)
        starts: list[int] = []
        indices: list[int] = []
        values: list[float] = []
        for t, p in added:  # sum_i a_i (c_i[m(t)] - c_i[p]) + v_t + v_p >= 0
            chosen, other = counts[(t, merged[t])], counts[(t, p)]
            starts.append(len(indices))
            indices += [*range(n), column(step_col, t), column(pair_col, p)]
            values += [chosen[i] - other[i] for i in range(n)] + [1.0, 1.0]
        model.addRows(
            len(added),
            np.zeros(len(added)),
            np.full(len(added), inf),
            len(indices),
            np.asarray(starts, dtype=np.int32),
            np.asarray(indices, dtype=np.int32),
            np.asarray(values, dtype=np.float64),
        )
        model.run()
        model_status = model.modelStatusToString(model.getModelStatus())
        if model_status != "Optimal":
            raise TokcliError(f"the mixture LP could not be solved: {model_status}", hint="try fewer --merges")
        x = model.getSolution().col_value
        weights = [max(float(v), 0.0) for v in x[:n]]
        total = sum(weights) or 1.0
        weights = [w / total for w in weights]
        slack_step = {t: float(x[c]) for t, c in step_col.items()}
        slack_pair = {p: float(x[c]) for p, c in pair_col.items()}
        status, objective = "optimal", float(model.getInfo().objective_function_value)
        history.append({"round": rounds, "constraints": len(constraints), "objective": objective})
    else:
        status = "stopped: round limit reached with violated constraints left"
    return LpResult(
        weights=weights,
        status=status,
        objective=objective,
        rounds=rounds,
        constraints=len(constraints),
        seconds=round(time.monotonic() - started, 3),
        violations_left=left,
        history=history,
    )
