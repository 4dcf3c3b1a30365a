"""The mixture LP of Hayase et al. (NeurIPS 2024), solved with HiGHS and lazily added constraints.

Variables: mixture weights a_i >= 0 with sum a_i = 1, a slack v_t >= 0 per merge step and v_p >= 0 per
pair. For every step t and every competing pair p != m(t):

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

TOLERANCE = 1e-12


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
) -> list[tuple[float, int, int]]:
    """(violation, step, pair) for the worst violated constraints of each step under ``weights``."""
    scales = [w / c.total if c.total else 0.0 for w, c in zip(weights, categories, strict=True)]
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
                if key != target:
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
        norm = 1.0 / category.total if category.total else 0.0
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
    """Mixture weights (in the order of ``categories``) that best explain the merge order ``merged``."""
    import numpy as np
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    started = time.monotonic()
    n = len(categories)
    weights = [1.0 / n] * n
    slack_step: dict[int, float] = {}
    slack_pair: dict[int, float] = {}
    constraints: set[tuple[int, int]] = set()
    status, objective = "no constraint was violated", 0.0
    history: list[dict[str, float]] = []
    rounds = 0
    left = 0
    for rounds in range(1, max_rounds + 1):
        violated = _sweep(categories, merged, weights, slack_step, slack_pair, first_step, per_step)
        fresh = [(excess, t, p) for excess, t, p in violated if (t, p) not in constraints]
        if not fresh:
            left = 0
            break
        fresh.sort(reverse=True)
        constraints.update((t, p) for _, t, p in fresh[:per_round])
        left = max(0, len(fresh) - per_round)
        wanted: dict[int, set[int]] = {}
        for t, p in constraints:
            wanted.setdefault(t, set()).update((p, merged[t]))
        counts = _counts_at(categories, wanted)
        steps = sorted({t for t, _ in constraints})
        pairs = sorted({p for _, p in constraints})
        step_col = {t: n + i for i, t in enumerate(steps)}
        pair_col = {p: n + len(steps) + i for i, p in enumerate(pairs)}
        rows, cols, vals = [], [], []
        for r, (t, p) in enumerate(sorted(constraints)):
            chosen, other = counts[(t, merged[t])], counts[(t, p)]
            for i in range(n):  # -(sum_i a_i d_i) - v_t - v_p <= 0
                rows.append(r)
                cols.append(i)
                vals.append(-(chosen[i] - other[i]))
            rows += [r, r]
            cols += [step_col[t], pair_col[p]]
            vals += [-1.0, -1.0]
        size = n + len(steps) + len(pairs)
        a_ub = coo_matrix((vals, (rows, cols)), shape=(len(constraints), size)).tocsr()
        cost = np.concatenate([np.zeros(n), np.ones(size - n)])
        a_eq = np.concatenate([np.ones(n), np.zeros(size - n)])[None, :]
        result = linprog(
            cost, A_ub=a_ub, b_ub=np.zeros(len(constraints)), A_eq=a_eq, b_eq=[1.0], bounds=(0, None), method="highs"
        )
        if result.status != 0:
            raise TokcliError(f"the mixture LP could not be solved: {result.message}", hint="try fewer --merges")
        x = result.x
        weights = [max(float(v), 0.0) for v in x[:n]]
        total = sum(weights) or 1.0
        weights = [w / total for w in weights]
        slack_step = {t: float(x[step_col[t]]) for t in steps}
        slack_pair = {p: float(x[pair_col[p]]) for p in pairs}
        status, objective = "optimal", float(result.fun)
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
