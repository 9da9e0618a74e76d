"""The production topology on one machine, for tests, benchmarks and ``make stack``: see ``stack.py``."""
from .processes import StackError
from .stack import Stack

__all__ = ["Stack", "StackError"]
