"""Running tasks in parallel: split planning, the local process-pool engine, the optional Ray engine.
Results come back in task order, so outputs never depend on the engine or the number of workers."""
