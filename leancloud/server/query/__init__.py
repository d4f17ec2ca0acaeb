"""The query AST and its parsers: REST parameters and ``where`` now, CQL later."""

from leancloud.server.query.ast import *
from leancloud.server.query.ast import __all__ as _ast_names
from leancloud.server.query.rest import DEFAULT_LIMIT, MAX_LIMIT, parse_query, resolve_redirect
from leancloud.server.query.where import normalize_iso, parse_path, parse_value, parse_where

__all__ = list(_ast_names) + [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "parse_query",
    "resolve_redirect",
    "parse_where",
    "parse_path",
    "parse_value",
    "normalize_iso",
]
