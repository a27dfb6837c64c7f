"""The coach's engines find a compiled statement again by its key's identity
(`storage.compiled_cache`), on both databases."""

from __future__ import annotations

from sqlalchemy import Integer, bindparam, select, text

from storage import db
from storage.compiled_cache import CompiledCache


async def test_a_statement_is_compiled_once_and_found_by_identity(database_url: str) -> None:
    engine = db.create_engine(database_url)
    statement = select(bindparam("n", type_=Integer) + 1)
    try:
        async with engine.connect() as connection:
            cache = connection.sync_connection.get_execution_options()["compiled_cache"]
            assert isinstance(cache, CompiledCache)
            assert (await connection.execute(statement, {"n": 1})).scalar() == 2
            compiled = len(cache)
            assert (await connection.execute(statement, {"n": 41})).scalar() == 42
            assert len(cache) == compiled  # not compiled again
            statement_key = statement._generate_cache_key()
            assert statement_key is not None
            assert id(statement_key.key) in cache._by_identity  # the second run found it so
            assert (await connection.execute(text("SELECT 7"))).scalar() == 7
    finally:
        await engine.dispose()
