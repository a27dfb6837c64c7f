"""`storage.compiled_cache.CompiledCache`: the same answers as a plain mapping, found by the
identity of a statement's key without hashing it again."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.compiled_cache import IDENTITY_ENTRIES, CompiledCache


class CountedKey(tuple[Any, ...]):
    """A statement key that counts how often it is hashed."""

    hashed = 0

    def __hash__(self) -> int:
        CountedKey.hashed += 1
        return tuple.__hash__(self)


def sqlalchemy_key(statement_key: Any, columns: tuple[str, ...] = ()) -> tuple[Any, ...]:
    """The shape of the key SQLAlchemy looks up (`ClauseElement._compile_w_cache`)."""
    return ("dialect", statement_key, columns, False, False)


def test_a_statement_seen_before_is_found_without_hashing_its_key() -> None:
    cache = CompiledCache()
    statement_key = CountedKey(("select", ("people", "id")))
    cache[sqlalchemy_key(statement_key)] = "compiled"
    assert cache.get(sqlalchemy_key(statement_key)) == "compiled"  # by value: hashed once
    CountedKey.hashed = 0
    for _ in range(5):
        assert cache.get(sqlalchemy_key(statement_key)) == "compiled"
    assert CountedKey.hashed == 0


def test_the_rest_of_the_key_still_counts() -> None:
    cache = CompiledCache()
    statement_key = ("select", ("people", "id"))
    cache[sqlalchemy_key(statement_key)] = "plain"
    cache[sqlalchemy_key(statement_key, ("pending",))] = "with columns"
    assert cache.get(sqlalchemy_key(statement_key)) == "plain"
    assert cache.get(sqlalchemy_key(statement_key, ("pending",))) == "with columns"
    assert cache.get(sqlalchemy_key(statement_key)) == "plain"
    assert cache.get(("other dialect", statement_key, (), False, False)) is None


def test_an_equal_key_of_another_statement_object_is_found_by_value() -> None:
    cache = CompiledCache()
    cache[sqlalchemy_key(("select", 1))] = "compiled"
    assert cache[sqlalchemy_key(("select", 1))] == "compiled"
    with pytest.raises(KeyError):
        cache[sqlalchemy_key(("select", 2))]


def test_the_identity_lookup_stays_bounded() -> None:
    cache = CompiledCache()
    for number in range(IDENTITY_ENTRIES * 3):
        key = sqlalchemy_key(("select", number))
        cache[key] = number
        assert cache.get(key) == number
    assert len(cache._by_identity) <= IDENTITY_ENTRIES
    # SQLAlchemy's LRU of 500 entries, pruned to that once half as many again are in it.
    assert len(cache) <= 750


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["set", "get", "delete", "clear"]),
            st.integers(0, 6),  # which statement
            st.booleans(),  # the same key object as before, or an equal copy
            st.integers(0, 2),  # column keys
        ),
        max_size=60,
    )
)
def test_answers_as_a_plain_mapping(steps: list[tuple[str, int, bool, int]]) -> None:
    cache = CompiledCache(size=100)
    plain: dict[Any, Any] = {}
    objects: dict[int, tuple[Any, ...]] = {}
    for number, (step, statement, same_object, columns) in enumerate(steps):
        if same_object and statement in objects:
            statement_key = objects[statement]
        else:
            statement_key = objects[statement] = ("select", ("table", statement))
        key = sqlalchemy_key(statement_key, ("c",) * columns)
        if step == "set":
            cache[key] = plain[key] = f"compiled {number}"
        elif step == "get":
            assert cache.get(key) == plain.get(key)
        elif step == "delete" and key in plain:
            del cache[key]
            del plain[key]
        elif step == "clear":
            cache.clear()
            plain.clear()
    assert len(cache) == len(plain)
    assert set(cache) == set(plain)
