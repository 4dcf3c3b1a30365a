"""What :func:`tokcli.mixture.lp.solve_mixture` returns, and the error it raises."""

from __future__ import annotations

from dataclasses import dataclass, field

from tokcli.errors import TokcliError


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
    cover_seconds: float = 0.0  # solving the fixed-weights cover (lp.cover.Cover), its sweeps included
    cover_iterations: int = 0
    ipm_iterations: int = 0  # of the rounds solved by the interior point method (see tuning.IPM_MIN_ROWS)
    violations_left: int = 0
    added: list[tuple[int, int]] = field(default_factory=list)  # (step, pair) of every constraint
    history: list[dict[str, float]] = field(default_factory=list)
