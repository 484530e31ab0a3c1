"""QR codes of eSIM activation codes (segno): deterministic PNG bytes for one string."""

from __future__ import annotations

import io

import segno


def qr_png(data: str, *, scale: int = 6) -> bytes:
    """The PNG of the QR code of ``data``, byte for byte the same for the same input (ID-LPA: the whole
    activation string, ``LPA:`` prefix included, is encoded)."""
    qr = segno.make(data, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
