"""Persistence (Pony ORM is imported here and nowhere else)."""
