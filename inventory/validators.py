"""Django field validators built on the pure rules of ``inventory.rules``."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from . import rules


def _raise_if(reason: str | None, code: str) -> None:
    if reason:
        raise ValidationError(reason, code=code)


def validate_iccid(value: str) -> None:
    """ID-ICCID: 8933…, 19–20 digits, Luhn check digit."""
    _raise_if(rules.iccid_error(value), "iccid")


def validate_pin(value: str | None) -> None:
    _raise_if(rules.pin_error(value), "pin")


def validate_puk(value: str) -> None:
    _raise_if(rules.puk_error(value), "puk")


def validate_mobile_number(value: str) -> None:
    _raise_if(rules.mobile_number_error(value), "msisdn")


def validate_m2m_number(value: str) -> None:
    _raise_if(rules.m2m_number_error(value), "msisdn")
