"""Request kinds, re-exported from ``core.operator_kinds`` so provisioning code can say
``from provisioning.kinds import RequestKind`` while ``contracts`` uses the very same class."""

from core.operator_kinds import RequestKind

__all__ = ["RequestKind", "CREATION_KINDS", "LINE_KINDS"]

#: Kinds that create a line at the operator (no operator line id yet).
CREATION_KINDS = frozenset({RequestKind.CREATE_LINE, RequestKind.CREATE_LINE_ESIM, RequestKind.PORT_IN})
#: Kinds that act on an existing operator line (payload names it).
LINE_KINDS = frozenset(set(RequestKind) - CREATION_KINDS)
