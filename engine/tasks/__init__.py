"""Tasks: the one way to open a task (`opening.open_tasks`), the hand-over an escalation carries,
and the commands people run on tasks (`engine/services/tasks.py`)."""
