"""The policy lab: what a strategy change would do before it is put in force (diff, backtest,
experiments). Nothing here writes to the live portfolio."""
