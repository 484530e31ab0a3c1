"""Parsing and row checks of the stock CSV files (no writes; ``services`` does the writing).

SIM file (``import_sims``, back-office « Importer des SIM »)::

    iccid;pin;puk;network
    89330123456789012347;1234;12345678;orange
    8933201234567890123F;;87654321;bouygues

- separator ``;`` or ``,`` (taken from the header line); UTF-8 (with or without BOM) or Latin-1;
- a header line naming the four columns, in any order (``réseau``/``reseau`` accepted for ``network``);
- ``iccid``: 19–20 digits starting 8933, Luhn check digit; spaces and one trailing ``F`` are stripped;
- ``pin``: 4–8 digits, or empty for a SIM without PIN (« sans PIN »); ``puk``: 8 digits;
- ``network``: ``orange`` or ``bouygues`` (``Bouygues Telecom`` accepted).

Number file (``import_numbers``)::

    msisdn;network;kind
    0612345678;bouygues;mobile
    07001234567890;orange;m2m_data

``kind`` is optional (10 digits → ``mobile``, 14 digits ``0700…`` → ``m2m_data``); ``+33 6…``/``336…`` forms
are accepted and stored in national form.

Line numbers are the physical line numbers of the file (the header is line 1).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from django.utils.translation import gettext as _

from core.errors import RuleViolation

from . import rules

SIM_COLUMNS = ("iccid", "pin", "puk", "network")
NUMBER_COLUMNS = ("msisdn", "network")
_COLUMN_ALIASES = {"reseau": "network", "réseau": "network", "numero": "msisdn", "numéro": "msisdn"}


class RowError(RuleViolation):
    """One bad line of an import file: ``message`` reads « Ligne N : raison »."""

    def __init__(self, line: int, reason: str, *, field: str | None = None, rule: str | None = None):
        super().__init__(
            _("Ligne %(line)d : %(reason)s") % {"line": line, "reason": reason}, field=field, rule=rule
        )
        self.line = line
        self.reason = reason

    def as_dict(self) -> dict:
        return {**super().as_dict(), "line": self.line}


@dataclass(frozen=True)
class SimRow:
    line: int
    iccid: str
    pin: str | None
    puk: str
    network: str


@dataclass(frozen=True)
class NumberRow:
    line: int
    msisdn: str
    network: str
    kind: str


_SNIFF_CHUNK = 64 * 1024


class Source:
    """An import file read as a text stream, as many times as needed, without loading it whole.

    ``data`` is ``bytes``, ``str`` or a seekable binary file (an ``UploadedFile``, an ``open(…, "rb")``).
    The encoding is decided once, by a first pass over the bytes in 64 KB chunks: UTF-8 (a BOM is dropped) if
    the whole file decodes as UTF-8, otherwise Latin-1 — the same rule as decoding the whole content at once.
    That pass also counts the lines (``lines``, for the progress reports)."""

    def __init__(self, data: bytes | str | BinaryIO):
        self._data = data
        self.lines = 0
        if isinstance(data, str):
            self.encoding = None
            self.lines = data.count("\n") + 1
            return
        self._binary = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
        self._binary.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        self.encoding = "utf-8-sig"
        try:
            while chunk := self._binary.read(_SNIFF_CHUNK):
                self.lines += chunk.count(b"\n")
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            self.encoding = "latin-1"
            while chunk := self._binary.read(_SNIFF_CHUNK):
                self.lines += chunk.count(b"\n")
        self.lines += 1

    @contextmanager
    def open(self) -> Iterator[Iterable[str]]:
        """The file's text lines from the start (line endings kept, as ``csv`` wants them)."""
        if self.encoding is None:
            yield io.StringIO(self._data, newline="")
            return
        self._binary.seek(0)
        stream = io.TextIOWrapper(self._binary, encoding=self.encoding, newline="")
        try:
            yield stream
        finally:
            stream.detach()  # leave the caller's file open


def read_table(
    lines: str | Iterable[str], required: tuple[str, ...]
) -> tuple[Iterator[tuple[int, dict]], list[RowError]]:
    """(line number, row dict) for each non-blank line after the header, or the header's error.

    ``lines`` is the whole text or, to read a file row by row, an iterable of its lines (``Source.open()``)."""
    lines = iter(io.StringIO(lines, newline="") if isinstance(lines, str) else lines)
    skipped = []
    first_line = ""
    for line in lines:
        skipped.append(line)
        if line.strip():
            first_line = line
            break
    if not first_line:
        return iter(()), [RowError(1, _("le fichier est vide."))]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") and ";" in first_line else ","
    reader = csv.reader(itertools.chain(skipped, lines), delimiter=delimiter)
    header: list[str] | None = None
    header_line = 0
    for cells in reader:
        if any(c.strip() for c in cells):
            header = [_COLUMN_ALIASES.get(c.strip().lower(), c.strip().lower()) for c in cells]
            header_line = reader.line_num
            break
    missing = [c for c in required if c not in (header or [])]
    if missing:
        expected = delimiter.join(required)
        return iter(()), [
            RowError(
                header_line or 1,
                _("en-tête attendu « %(expected)s » (colonnes manquantes : %(missing)s).")
                % {"expected": expected, "missing": ", ".join(missing)},
            )
        ]

    def rows() -> Iterator[tuple[int, dict]]:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:  # e.g. a field over csv's size limit: one bad line, not a crash
                yield reader.line_num, None
                continue
            if not any(c.strip() for c in cells):
                continue
            padded = cells + [""] * (len(header) - len(cells))
            yield reader.line_num, {name: padded[i].strip() for i, name in enumerate(header) if name}

    return rows(), []


def unreadable_line(line: int) -> RowError:
    return RowError(line, _("ligne illisible (champ trop long ou guillemets non fermés)."))


def parse_sim_row(line: int, row: dict) -> tuple[SimRow | None, list[RowError]]:
    errors = []
    for field, check in (
        ("iccid", rules.iccid_error),
        ("pin", rules.pin_error),
        ("puk", rules.puk_error),
        ("network", rules.network_error),
    ):
        reason = check(row.get(field, ""))
        if reason:
            errors.append(RowError(line, reason, field=field))
    if errors:
        return None, errors
    pin = rules.normalize_code(row.get("pin"))
    return (
        SimRow(
            line=line,
            iccid=rules.normalize_iccid(row["iccid"]),
            pin=pin or None,
            puk=rules.normalize_code(row["puk"]),
            network=rules.parse_network(row["network"]).value,
        ),
        [],
    )


def number_row_error(msisdn: str, network: str, kind: str) -> str | None:
    """Why this number cannot enter a pool (format of its kind; ``m2m_data`` numbers are Orange's)."""
    if kind == "m2m_data":
        if network != "orange":
            return _("les numéros data/M2M 0700… sont attribués par Orange uniquement.")
        return rules.m2m_number_error(msisdn)
    if kind == "mobile":
        return rules.mobile_number_error(msisdn)
    return _("type de numéro inconnu « %(kind)s » : attendu « mobile » ou « m2m_data ».") % {"kind": kind}


def infer_kind(msisdn: str) -> str:
    return "m2m_data" if len(msisdn) == 14 else "mobile"


def parse_number_row(line: int, row: dict) -> tuple[NumberRow | None, list[RowError]]:
    network_reason = rules.network_error(row.get("network", ""))
    if network_reason:
        return None, [RowError(line, network_reason, field="network")]
    msisdn = rules.normalize_msisdn(row.get("msisdn", ""))
    network = rules.parse_network(row["network"]).value
    kind = (row.get("kind") or "").strip().lower() or infer_kind(msisdn)
    reason = number_row_error(msisdn, network, kind)
    if reason:
        return None, [RowError(line, reason, field="msisdn")]
    return NumberRow(line=line, msisdn=msisdn, network=network, kind=kind), []
