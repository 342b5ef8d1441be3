"""One exception root for everything a user can get wrong or the numerics can refuse.

The CLI turns any :class:`TunerError` into one line on stderr and exit status 2. Messages name
the value, the rule it broke and the fix, e.g. ``"The 'lam' bound of search space 'ials' must be
> 0. Got -1.0 instead."``
"""

from __future__ import annotations


class TunerError(Exception):
    """Root of every error the CLI reports as one clear line (exit status 2)."""


class DataError(TunerError):
    """Input data is missing, malformed or unusable (files, columns, ids, fractions, splits)."""


class ConfigError(TunerError):
    """A configuration is invalid: search spaces, run TOML files, command-line values."""


class StorageError(TunerError):
    """The study storage is unreachable, unknown, or holds a study built on other data."""


class SolverError(TunerError):
    """A solver produced non-finite or diverging factors; the factors are not returned."""
