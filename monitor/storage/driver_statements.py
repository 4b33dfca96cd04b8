"""Statements compiled once per database kind and run at the driver with plain values.

For the outbox's statements that run for every batch or every row, SQLAlchemy's per-execution
work (binding each parameter through its type, checking the statement cache) cost as much as
the database did. A ``DriverStatement`` holds the SQL compiled for one dialect and the order
and type conversions of its parameters, so an execution only lays out a tuple.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any, cast

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """SQL for one dialect's driver, and how named values become its positional parameters."""

    sql: str
    pick: Callable[[dict[str, Any]], tuple[Any, ...]]
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]  # the column types' conversions
    constants: dict[str, Any]  # the values written in the statement (``attempts + 1``), converted

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The constants and ``values`` (converted as the column types would) in the SQL's order."""
        given = {**self.constants, **values}
        for name, process in self.processors:
            given[name] = process(given[name])
        return self.pick(given)


@lru_cache(maxsize=32)
def driver_statement(statement: ClauseElement, dialect: Dialect) -> DriverStatement:
    """Compile ``statement`` for ``dialect``.

    A bindparam without a value is the caller's to give, by name; one with a value is a
    constant (write a constant NULL as ``null()``, not as a bound None).
    """
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    names = compiled.positiontup
    if names is None:
        raise RuntimeError(f"{dialect.name}: a positional paramstyle is needed, not named")
    processors, constants = [], {}
    for name in dict.fromkeys(names):  # a name used twice is converted once
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if bind.value is not None:
            constants[name] = process(bind.value) if process else bind.value
        elif process is not None:
            processors.append((name, process))
    pick = itemgetter(*names) if len(names) > 1 else lambda values: (values[names[0]],)
    return DriverStatement(compiled.string, pick, tuple(processors), constants)
