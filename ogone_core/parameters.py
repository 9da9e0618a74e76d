"""The official lists of parameters that take part in SHA-IN and SHA-OUT signatures.

The lists are data files shipped in ``ogone_core/data`` and loaded once. An entry ending in ``*XX*`` stands for
a numbered family (``ITEMNAME*XX*`` covers ``ITEMNAME1``, ``ITEMNAME2``, ...). ``logical_order.txt`` names the
families (line items, travel data) that the guide signs in ascending order of their index.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Literal

Direction = Literal["in", "out"]

_FILES = {"in": "sha_in.txt", "out": "sha_out.txt"}
_NUMBERED = re.compile(r"^(.*?)([0-9]+)\Z")


def _read_data(filename: str) -> list[str]:
    text = resources.files("ogone_core.data").joinpath(filename).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


class ParameterList:
    """One direction's whitelist: answers whether an upper-cased name takes part in the signature."""

    def __init__(self, direction: Direction, entries: list[str]):
        self.direction = direction
        self.names = frozenset(e for e in entries if not e.endswith("*XX*"))
        self.families = frozenset(e[: -len("*XX*")] for e in entries if e.endswith("*XX*"))

    def __contains__(self, upper_name: str) -> bool:
        if upper_name in self.names:
            return True
        numbered = _NUMBERED.match(upper_name)
        return bool(numbered) and numbered.group(1) in self.families

    def family_member(self, upper_name: str) -> tuple[str, str] | None:
        """``ITEMNAME12`` -> ``("ITEMNAME", "12")`` when the name belongs to a numbered family of the list."""
        numbered = _NUMBERED.match(upper_name)
        if numbered and numbered.group(1) in self.families and upper_name not in self.names:
            return numbered.group(1), numbered.group(2)
        return None

    def __repr__(self) -> str:
        return f"<ParameterList SHA-{self.direction.upper()} {len(self.names)} names, {len(self.families)} families>"


@lru_cache(maxsize=None)
def logically_ordered_families() -> frozenset[str]:
    """Family stems (``ITEMNAME``) whose members are signed in ascending order of their index."""
    return frozenset(entry[: -len("*XX*")] for entry in _read_data("logical_order.txt"))


@lru_cache(maxsize=None)
def parameter_list(direction: Direction) -> ParameterList:
    if direction not in _FILES:
        raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")
    return ParameterList(direction, _read_data(_FILES[direction]))
