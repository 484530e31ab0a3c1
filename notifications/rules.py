"""Pure rules of notifications (no ORM): retry backoff, eSIM activation and confirmation codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

# ID-LPA (SGP.22 §4.1): LPA:1$<SM-DP+ host>$<matching id>$<OID>$<1 if a confirmation code is required>.
_LPA_RE = re.compile(
    r"^LPA:1\$(?P<smdp>[A-Za-z0-9.-]+(?::[0-9]{1,5})?)\$(?P<matching_id>[A-Z0-9-]+)"
    r"(?:\$(?P<oid>[0-9.]*)(?:\$(?P<cc>1)?)?)?$"
)
_CONFIRMATION_RE = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True)
class ActivationCode:
    smdp_address: str
    matching_id: str
    oid: str
    confirmation_required: bool

    @property
    def value(self) -> str:
        return activation_code_build(
            smdp_address=self.smdp_address,
            matching_id=self.matching_id,
            oid=self.oid,
            confirmation_required=self.confirmation_required,
        )


def activation_code_build(
    *, smdp_address: str, matching_id: str, oid: str = "", confirmation_required: bool = True
) -> str:
    """``LPA:1$<SM-DP+>$<matching id>$$1`` (the seed's form) — R-ORD-4, ID-LPA."""
    code = f"LPA:1${smdp_address}${matching_id}"
    if oid or confirmation_required:
        code += f"${oid}"
    if confirmation_required:
        code += "$1"
    return code


def activation_code_parse(value: str) -> ActivationCode:
    """Split an activation code; ``ValueError`` when it is not an ID-LPA string."""
    match = _LPA_RE.match(value or "")
    if not match:
        raise ValueError(f"not an LPA activation code: {value!r}")
    return ActivationCode(
        smdp_address=match["smdp"],
        matching_id=match["matching_id"],
        oid=match["oid"] or "",
        confirmation_required=match["cc"] == "1",
    )


def confirmation_code_valid(code: str) -> bool:
    """R-ORD-3: the eSIM confirmation code is 6 digits."""
    return bool(_CONFIRMATION_RE.match(code or ""))


def retry_delay(attempts: int, *, base_seconds: int, max_seconds: int) -> timedelta:
    """Exponential backoff after ``attempts`` failed tries: base, 2×base, 4×base… capped at ``max_seconds``."""
    exponent = max(attempts - 1, 0)
    seconds = base_seconds * (2 ** min(exponent, 30))
    return timedelta(seconds=min(seconds, max_seconds))


def ref_parts(ref) -> tuple[str, str]:
    """A generic reference as (ref_type, ref_id): a ``(type, id)`` pair or a model instance."""
    if ref is None:
        return "", ""
    meta = getattr(ref, "_meta", None)
    if meta is not None:
        return meta.label_lower, str(ref.pk)
    ref_type, ref_id = ref
    return str(ref_type), str(ref_id)
