"""The exceptions App Engine code catches, under the names it uses.

``google.appengine.api.datastore_errors`` and ``ndb.model`` spread these over two
modules; here they live together and are re-exported by ``leancloud.ndb``.
"""

from __future__ import annotations

__all__ = [
    "Error",
    "BadValueError",
    "BadArgumentError",
    "BadRequestError",
    "BadKeyError",
    "KindError",
    "InvalidPropertyError",
    "BadProjectionError",
    "ReadonlyPropertyError",
    "ComputedPropertyError",
    "UnprojectedPropertyError",
]


class Error(Exception):
    """Base of every datastore error."""


class BadValueError(Error):
    """A value does not fit the property (wrong type, too long, not among the choices)."""


class BadArgumentError(Error):
    """An argument is invalid or arguments do not fit together."""


class BadRequestError(Error):
    """The storage refused the request as malformed."""


class BadKeyError(Error):
    """A key is malformed or incomplete where a complete one is needed."""


class KindError(BadValueError):
    """No model class is registered for a kind, or the kind is not a usable name."""


class InvalidPropertyError(Error):
    """A property does not fit the purpose (e.g. an unindexed one in a projection)."""


BadProjectionError = InvalidPropertyError


class ReadonlyPropertyError(Error):
    """Setting a read-only property."""


class ComputedPropertyError(ReadonlyPropertyError):
    """Setting or deleting a ComputedProperty."""


class UnprojectedPropertyError(Error):
    """Reading a property that a projection query did not fetch."""
