"""A module for tests/unit/test_lazy.py to import lazily (its body runs once per import)."""

VALUE = 42
LOADED_AT = object()
