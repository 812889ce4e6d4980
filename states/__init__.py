"""Domain core: the three state machines, money, domain errors. No I/O lives here."""
