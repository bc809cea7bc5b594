"""The HTTP and GraphQL surface: Starlette app, Strawberry schema, context. No business rules."""
