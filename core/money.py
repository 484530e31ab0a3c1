"""Money and volumes: Decimal euros HT, integer bytes (1 Go = 10**9, 1 Mo = 10**6, 1 To = 10**12)."""

from decimal import Decimal

KB = 10**3
MB = 10**6
GB = 10**9
TB = 10**12

CENT = Decimal("0.01")


def eur(value: str | int | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def format_bytes(value: int | None) -> str:
    """French display of a volume: 500 Mo, 1 Go, 1 To."""
    if value is None:
        return "—"
    for unit, size in (("To", TB), ("Go", GB), ("Mo", MB), ("Ko", KB)):
        if value >= size and value % size == 0:
            return f"{value // size} {unit}"
    for unit, size in (("To", TB), ("Go", GB), ("Mo", MB), ("Ko", KB)):
        if value >= size:
            return f"{value / size:.2f}".replace(".", ",") + f" {unit}"
    return f"{value} o"
