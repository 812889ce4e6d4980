"""The daily cycle on the GraphQL surface: `runCycle` (admins)."""
