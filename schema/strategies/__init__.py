"""Strategies on the GraphQL surface: the set in force, reload and validation."""
