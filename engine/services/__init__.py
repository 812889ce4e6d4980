"""Commands of the service layer. Every entry point (CLI, GraphQL, scheduler) calls these."""
