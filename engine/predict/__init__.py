"""Payment predictions: when each open invoice will be paid, how likely late (engine/predict/model.py),
and what follows from them (the cash-in forecast)."""
