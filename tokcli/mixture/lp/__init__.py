"""The mixture LP of Hayase et al. (NeurIPS 2024), solved with HiGHS and lazily added constraints.

Variables: mixture weights a_i >= 0 with sum a_i = 1, a slack v_t >= 0 per merge step and v_p >= 0 per
pair. For every step t and every competing pair p != m(t):

    sum_i a_i (c_i[m(t)](t) - c_i[p](t)) + v_t + v_p >= 0        (c: normalised counts at step t)

i.e. the merge the tokenizer chose must have been the most frequent pair of the mixture, up to slack;
minimise sum v_t + sum v_p. The full constraint set is huge (steps x pairs), so constraints are added
lazily (cutting planes): solve, sweep every step for constraints the current solution violates, add the
worst, re-solve; when a sweep finds no violated constraint the solution is optimal for the full LP.

The modules, by role:

- :mod:`~tokcli.mixture.lp.events`: the counts as per-(pair, step) segments of the mixture count.
- :mod:`~tokcli.mixture.lp.sweep`: the vectorised search for violated constraints (a range-minimum query
  per segment) and the capped, greedy choice of a round's rows (at most ``per_step`` per step,
  ``per_pair`` per pair, ``per_round`` in all; the reference implementation, alisawuffles/tokenizer-attack,
  takes the worst 10 per step and 100 per round with Gurobi).
- :mod:`~tokcli.mixture.lp.model`: the main LP in HiGHS, with shared step and segment columns.
- :mod:`~tokcli.mixture.lp.cover`: the LP at fixed weights (a bipartite vertex cover), which drives the
  last phases: its matching's rows go to the main LP, and its objective (an upper bound) meeting the
  main LP's (a lower bound) proves optimality.
- :mod:`~tokcli.mixture.lp.solve`: the loop over rounds and phases (growing prefixes of the merge list);
  rounds that at least double the model are solved by the interior point method.
- :mod:`~tokcli.mixture.lp.tuning`: tolerances and tuning knobs; :mod:`~tokcli.mixture.lp.highs`: a quiet
  HiGHS object and a solution's slacks; :mod:`~tokcli.mixture.lp.result`: the result and the error.

Each choice was measured on a 30-category instance; the numbers are in docs/benchmarks.md ("Mixture
inference").
"""

from tokcli.mixture.lp.result import LpResult, SolveError
from tokcli.mixture.lp.solve import solve_mixture

__all__ = ["LpResult", "SolveError", "solve_mixture"]
