"""SQLAlchemy's cache of compiled statements, found without hashing the statement each time.

SQLAlchemy looks a statement up in its compiled cache by the statement's cache key: a nested
tuple of every element of the statement (about 1,500 for the message's arrival and its
decision's read), which Python hashes again at every execution (tuples do not keep their hash):
7-8 µs per execution, about 3 % of a message's instructions on PostgreSQL. The coach's hot
statements are built once, so their cache key is the same object every time (SQLAlchemy
memoizes it on the statement). This cache first looks the key up by that object's identity and
hashes it only on a miss. It is passed as the engine's `compiled_cache` execution option (a
documented option; any mapping will do)."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from sqlalchemy.util import LRUCache

# Entries found by identity; past this many (statements built per call leave one each) the
# identity map starts again empty (the cache by value still holds everything).
IDENTITY_ENTRIES = 1_000


class CompiledCache(MutableMapping[Any, Any]):
    """A mapping as SQLAlchemy's own compiled cache (an LRU by value, `size` entries), with a
    lookup by identity in front of it. SQLAlchemy's key: (dialect, the statement's cache key,
    column keys, schema-translate flag, executemany flag)."""

    def __init__(self, size: int = 500) -> None:
        self._by_value: LRUCache[Any, Any] = LRUCache(size)
        # id(statement key) -> (statement key, the rest of the key, compiled). The statement
        # key is held, so its id cannot be reused by another object while the entry lives.
        self._by_identity: dict[int, tuple[Any, tuple[Any, ...], Any]] = {}

    def get(self, key: Any, default: Any = None) -> Any:
        found = self._find(key)
        return default if found is None else found

    def __getitem__(self, key: Any) -> Any:
        found = self._find(key)
        if found is None:
            raise KeyError(key)
        return found

    def _find(self, key: Any) -> Any:
        if not (isinstance(key, tuple) and len(key) > 1):
            return self._by_value.get(key)
        statement_key, rest = key[1], (key[0], *key[2:])
        entry = self._by_identity.get(id(statement_key))
        if entry is not None and entry[0] is statement_key and entry[1] == rest:
            return entry[2]
        compiled = self._by_value.get(key)
        if compiled is not None:
            self._remember(statement_key, rest, compiled)
        return compiled

    def _remember(self, statement_key: Any, rest: tuple[Any, ...], compiled: Any) -> None:
        if len(self._by_identity) >= IDENTITY_ENTRIES:
            self._by_identity.clear()
        self._by_identity[id(statement_key)] = (statement_key, rest, compiled)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._by_value[key] = value

    def __delitem__(self, key: Any) -> None:
        self._by_identity.clear()
        del self._by_value[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._by_value)

    def __len__(self) -> int:
        return len(self._by_value)

    def clear(self) -> None:
        self._by_identity.clear()
        self._by_value.clear()
