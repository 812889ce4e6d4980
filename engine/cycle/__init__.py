"""The daily cycle: load the portfolio's facts set-based, decide with the vectorized evaluator,
apply the transitions in chunks, exactly once per business date."""
