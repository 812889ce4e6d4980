"""Cash application: bank statements in (`formats/`), payments matched (`matching`), the exception
queue and the bank transaction machine's writes (`engine/services/bank_transactions.py`)."""
