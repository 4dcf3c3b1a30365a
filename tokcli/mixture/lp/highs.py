"""HiGHS helpers shared by the main LP and the cover: a quiet ``Highs`` object, and a solution's slacks."""

from __future__ import annotations

import os
import sys
from typing import Any


def new_highs() -> Any:
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


def _keys(table: dict[int, int]) -> Any:
    import numpy as np

    return np.fromiter(table.keys(), dtype=np.int64, count=len(table))


def _values(table: dict[int, int]) -> Any:
    import numpy as np

    return np.fromiter(table.values(), dtype=np.int64, count=len(table))


def read_slacks(
    x: Any, step_slack: dict[int, int], pair_slack: dict[int, int], steps: int
) -> tuple[Any, tuple[Any, Any]]:
    """From a solution ``x``: the step slacks v_t (dense over steps) and the pairs with a non-zero slack
    v_p with their slacks (sorted by pair), as :func:`tokcli.mixture.lp.sweep.sweep` takes them.
    ``step_slack`` and ``pair_slack`` map a step or pair to its column."""
    import numpy as np

    slack_step = np.zeros(steps)
    slack_step[_keys(step_slack)] = x[_values(step_slack)]
    keys, values = _keys(pair_slack), x[_values(pair_slack)]
    nonzero = np.flatnonzero(values)
    order = nonzero[np.argsort(keys[nonzero])]
    return slack_step, (keys[order], values[order])
