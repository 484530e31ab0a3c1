"""The API reads JSON only, and JSON of a bounded depth (issue 10 item 3: bad input never gives a 500).

Python's decoder raises ``RecursionError`` on a body nested a few thousand levels deep, and a body nested a few
hundred levels deep parses but can exhaust the stack later (serializers, the idempotency fingerprint). No request
of the API needs more than a handful of levels: anything deeper than ``MAX_DEPTH`` is refused with a 400."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32


def json_depth(value) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0, ``[]`` is 1), walked without recursion."""
    depth = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth = max(depth, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return depth


def _too_deep() -> ParseError:
    return ParseError(_("Corps JSON refusé : au plus %(max)d niveaux d'imbrication.") % {"max": MAX_DEPTH})


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with a depth limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise _too_deep() from None
        if json_depth(data) > MAX_DEPTH:
            raise _too_deep()
        return data
