"""Dunning blocks: which invoices are blocked on a business date (the cycle's `blocked` fact),
and the view of a block. Commands on blocks are in `engine/services/blocks.py`."""
