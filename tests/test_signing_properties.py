"""Properties of the signature that must hold for any parameters, checked with generated input."""
import hashlib
import re
from importlib import resources

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ogone_core.errors import InvalidRequest
from ogone_core.signing import canonical_string, compute_shasign, signed_pairs


def _official(filename):
    text = resources.files("ogone_core.data").joinpath(filename).read_text(encoding="utf-8")
    entries = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return ([e for e in entries if not e.endswith("*XX*")],
            [e[:-len("*XX*")] for e in entries if e.endswith("*XX*")])


IN_NAMES, IN_FAMILIES = _official("sha_in.txt")
OUT_NAMES, _ = _official("sha_out.txt")


def _in_sha_in_list(name):
    """An oracle independent of the library: exact name, or a family stem followed by ASCII digits."""
    upper = name.upper()
    if upper in IN_NAMES:
        return True
    return any(re.fullmatch(re.escape(stem) + "[0-9]+", upper) for stem in IN_FAMILIES)


ALGORITHMS = st.sampled_from(["sha1", "sha256", "sha512"])
PASSPHRASES = st.text(min_size=1, max_size=30)
VALUES = st.text(min_size=1, max_size=25)
SIGNED_NAMES = st.sampled_from(sorted(IN_NAMES) + [f + "1" for f in IN_FAMILIES] + [f + "12" for f in IN_FAMILIES])
# Unique signed names (case-insensitive) with non-empty values.
SIGNED_PARAMS = st.dictionaries(SIGNED_NAMES, VALUES, min_size=1, max_size=12)
# Latin-1 text; hypothesis never generates surrogates for st.text().
LATIN1 = st.text(alphabet=st.characters(max_codepoint=0xFF), min_size=1, max_size=25)


def _random_case(draw_bools, name):
    return "".join(c.lower() if flip else c for c, flip in zip(name, draw_bools))


@settings(max_examples=150)
@given(params=SIGNED_PARAMS, passphrase=PASSPHRASES, algorithm=ALGORITHMS, data=st.data())
def test_order_does_not_matter(params, passphrase, algorithm, data):
    pairs = list(params.items())
    shuffled = data.draw(st.permutations(pairs))
    assert compute_shasign(shuffled, passphrase, algorithm) == compute_shasign(pairs, passphrase, algorithm)


@given(params=SIGNED_PARAMS, passphrase=PASSPHRASES, algorithm=ALGORITHMS, data=st.data())
def test_names_are_case_insensitive(params, passphrase, algorithm, data):
    recased = {}
    for name, value in params.items():
        flips = data.draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
        recased[_random_case(flips, name)] = value
    assert compute_shasign(recased, passphrase, algorithm) == compute_shasign(params, passphrase, algorithm)


@given(params=SIGNED_PARAMS, empties=st.lists(SIGNED_NAMES, max_size=6), passphrase=PASSPHRASES,
       empty=st.sampled_from(["", None]))
def test_empty_values_are_ignored(params, empties, passphrase, empty):
    extra = {name: empty for name in empties if name not in params}
    assert compute_shasign({**params, **extra}, passphrase) == compute_shasign(params, passphrase)


@given(params=SIGNED_PARAMS,
       others=st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=20), max_size=6),
       passphrase=PASSPHRASES)
def test_names_outside_the_list_are_ignored(params, others, passphrase):
    others = {name: value for name, value in others.items()
              if not _in_sha_in_list(name) and name.upper() != "SHASIGN"}
    upper_signed = {name.upper() for name in params}
    assume(all(name.upper() not in upper_signed for name in others))
    assert compute_shasign({**params, **others}, passphrase) == compute_shasign(params, passphrase)
    assert canonical_string({**params, **others}, passphrase) == canonical_string(params, passphrase)


@given(params=SIGNED_PARAMS, passphrase=PASSPHRASES, algorithm=ALGORITHMS, data=st.data())
def test_any_change_of_a_signed_value_changes_the_digest(params, passphrase, algorithm, data):
    name = data.draw(st.sampled_from(sorted(params)))
    new_value = data.draw(st.text(max_size=25).filter(lambda v: v != params[name]))
    changed = dict(params, **{name: new_value})
    if not any(changed.values()):
        # Emptying the only signed value leaves nothing to sign, and the digest of nothing is public.
        with pytest.raises(InvalidRequest):
            compute_shasign(changed, passphrase, algorithm)
        return
    assert compute_shasign(changed, passphrase, algorithm) != compute_shasign(params, passphrase, algorithm)


@given(params=SIGNED_PARAMS, passphrase=PASSPHRASES, name=SIGNED_NAMES, value=VALUES)
def test_adding_a_signed_parameter_changes_the_digest(params, passphrase, name, value):
    assume(name.upper() not in {n.upper() for n in params})
    assert compute_shasign({**params, name: value}, passphrase) != compute_shasign(params, passphrase)


@given(value=st.text(min_size=1, max_size=40), passphrase=PASSPHRASES, algorithm=ALGORITHMS)
def test_values_are_hashed_as_utf8(value, passphrase, algorithm):
    expected = hashlib.new(algorithm, f"CN={value}{passphrase}".encode("utf-8")).hexdigest().upper()
    assert compute_shasign({"cn": value}, passphrase, algorithm) == expected


@given(value=LATIN1, passphrase=st.text(alphabet=st.characters(max_codepoint=0xFF), min_size=1, max_size=20),
       algorithm=ALGORITHMS)
def test_values_are_hashed_as_iso_8859_1_when_asked(value, passphrase, algorithm):
    expected = hashlib.new(algorithm, f"CN={value}{passphrase}".encode("iso-8859-1")).hexdigest().upper()
    assert compute_shasign({"CN": value}, passphrase, algorithm, encoding="iso-8859-1") == expected


@given(prefix=LATIN1, outside=st.characters(min_codepoint=0x100, exclude_categories=("Cs",)))
def test_iso_8859_1_refuses_characters_outside_latin_1(prefix, outside):
    with pytest.raises(InvalidRequest):
        compute_shasign({"CN": prefix + outside}, "k", "sha256", encoding="iso-8859-1")


@given(params=SIGNED_PARAMS, passphrase=PASSPHRASES, shasign=st.text(max_size=130))
def test_shasign_never_takes_part(params, passphrase, shasign):
    assume("SHASIGN" not in {n.upper() for n in params})
    assert compute_shasign({**params, "SHASign": shasign}, passphrase) == compute_shasign(params, passphrase)


@given(params=SIGNED_PARAMS, passphrase=PASSPHRASES)
def test_canonical_string_is_name_value_passphrase_per_pair(params, passphrase):
    string = canonical_string(params, passphrase)
    assert string.count("=") >= len(params)
    for name, value in params.items():
        assert f"{name.upper()}={value}{passphrase}" in string
    assert len(string) == sum(len(n) + 1 + len(v) + len(passphrase) for n, v in params.items())


LOGICAL = _official("logical_order.txt")[1]
NUMBERED_NAMES = st.builds(lambda family, index: f"{family}{index}", st.sampled_from(IN_FAMILIES),
                           st.integers(min_value=1, max_value=120))


def _oracle_key(upper):
    """Independent of the library: ``_`` before everything, then digits, then letters; a member of a logically
    ordered family by stem, then by the number of its index."""
    def text_key(text):
        return [(0, c) if c == "_" else (1, c) for c in text]
    for stem in sorted(LOGICAL, key=len, reverse=True):
        match = re.fullmatch(re.escape(stem) + "([0-9]+)", upper)
        if match:
            return text_key(stem + "0") + [(2, int(match.group(1)), match.group(1))]
    return text_key(upper)


@settings(max_examples=200)
@given(names=st.lists(st.one_of(SIGNED_NAMES, NUMBERED_NAMES), min_size=1, max_size=30,
                      unique_by=lambda name: name.upper()))
def test_signing_order_matches_an_independent_oracle(names):
    params = [(name, "v") for name in names]
    expected = sorted((name.upper() for name in names), key=_oracle_key)
    assert [name for name, _ in signed_pairs(params)] == expected
