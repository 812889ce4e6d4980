"""The read side: what resolvers ask for, answered in few set-based statements.

Every function opens its own read-only unit of work (call them from a worker thread, never
from the event loop) and returns frozen views from `engine.views` or from this package.
"""
