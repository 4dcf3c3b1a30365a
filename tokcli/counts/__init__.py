"""``tokcli count``'s core and the counts store it writes (manifest, sorted Parquet parts), read back by
``train --from-counts`` and ``infer-mixture --counts``."""
