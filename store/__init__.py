"""The only code that knows MongoDB: collections, indexes, queries and conditional updates."""
