"""The GraphQL surface (strawberry): one folder per domain; `build.build_schema()` assembles it."""
