"""Ingestion of operator CDR files, set-based on PostgreSQL (issue 7, items 2–5; STYLE 34).

One file is one transaction:

1. **claim** — ``INSERT … ON CONFLICT (sha256) DO NOTHING`` of its ``CdrFile`` row: a second worker on the same
   file waits on the unique index and then finds it taken; a file delivered again (same content) changes
   nothing. A crash (``kill -9``) anywhere before the commit leaves nothing behind: the next pick-up does it all
   again, so nothing is counted twice and nothing is lost;
2. **check** — each line is checked in Python against its operator's format (``usage/formats.py``: one
   regular expression for a good line, field-by-field reasons only for a bad one) and converted to the
   platform's forms (national numbers, bytes, ISO countries and zones); a bad record is quarantined with its
   line number and reason, the rest of the file is taken;
3. **load** — the checked records go into a temporary table with ``COPY`` (time zones are converted there);
4. **attribute** — each record goes to the contract that held the number at the event's time;
5. **rate** — records join the rating matrix built from ``usage.rules.classify`` for the plan profiles present;
   fair use (R-CAT-11) and monthly allowances (R-CAT-4, R-CAT-8) with window functions; amounts from the
   catalog's usage rates (an empty rate: « à tarifer », never 0);
6. **store and count** — one statement inserts the records into the partitioned ``usage_cdr`` (``ON CONFLICT
   DO NOTHING``: a record is taken once, by network + operator record id + time) and, with the rows really
   inserted only, upserts the counters (aggregated deltas, ``ON CONFLICT DO UPDATE``);
7. **alerts** — ``usage.services.usage_after_ingestion``: Orange SMS fair use, then ``alerts_check`` for the
   lines that can have reached a threshold (exactly once per line, threshold and month: a unique constraint),
   which queues SMS and emails and blocks data through ``contracts``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg2.extras import execute_values

from core.clock import add_months, month_bounds, month_start

from . import partitions, rules
from .formats import COLUMNS, FORMATS

ORANGE_HEADER = FORMATS["orange"].header
BOUYGUES_HEADER = FORMATS["bouygues"].header
TEMP_TABLES = (
    "_cdr_rec",
    "_cdr_att",
    "_cdr_plan",
    "_cdr_matrix",
    "_cdr_rated",
    "_cdr_rank",
    "_cdr_final",
    "_cdr_new",
)
HEADERS = {"orange": ORANGE_HEADER, "bouygues": BOUYGUES_HEADER}
FILE_NAMES = {
    "orange": re.compile(r"^ORANGE_CDR_\d{10}\.csv$"),
    "bouygues": re.compile(r"^BYT_\d{8}_\d{2}_CDR\.txt$"),
}


def network_of(name: str) -> str | None:
    """The network whose file-name pattern ``name`` follows (None: not a CDR file)."""
    for network, pattern in FILE_NAMES.items():
        if pattern.match(name):
            return network
    return None


@dataclass
class IngestReport:
    name: str
    network: str = ""
    file_id: int | None = None
    already: bool = False  # the same content was taken before: nothing done
    rejected: str = ""
    lines: int = 0
    taken: int = 0
    duplicates: int = 0
    quarantined: int = 0
    contracts: int = 0
    alerts: int = 0  # new alerts of the file's batch (``ingest_batch``)
    batch_files: int = 1
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        if self.already:
            return f"{self.name} : déjà intégré, rien à faire"
        if self.rejected:
            return f"{self.name} : rejeté — {self.rejected}"
        return (
            f"{self.name} : {self.taken} enregistrement(s) intégré(s), {self.duplicates} doublon(s), "
            f"{self.quarantined} en quarantaine, {self.contracts} ligne(s), {self.alerts} alerte(s)"
            + (f" (lot de {self.batch_files} fichiers)" if self.batch_files > 1 else "")
        )


# --- the pipeline -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One operator file to take: its name and a way to read its bytes (read when its turn comes, so a batch
    holds one file's bytes at a time)."""

    name: str
    read: Callable[[], bytes]

    @classmethod
    def of_path(cls, path: Path | str) -> Source:
        path = Path(path)
        return cls(name=path.name, read=path.read_bytes)

    @classmethod
    def of_bytes(cls, name: str, data: bytes) -> Source:
        return cls(name=name, read=lambda: data)


def ingest_path(path: Path | str) -> IngestReport:
    return ingest_batch([Source.of_path(path)])[0]


def ingest_bytes(*, name: str, data: bytes, network: str | None = None) -> IngestReport:
    """Take one operator file exactly once (see the module docstring)."""
    return ingest_batch([Source.of_bytes(name, data)], network=network)[0]


def batches(paths: list[Path]) -> list[list[Path]]:
    """``paths`` (in the order given) cut into batches of one network each, at most ``CDR_BATCH_MAX_BYTES`` of
    files each (a file larger than that is a batch of its own)."""
    out: list[list[Path]] = []
    size = 0
    for path in paths:
        length = path.stat().st_size
        if (
            out
            and network_of(out[-1][0].name) == network_of(path.name)
            and size + length <= settings.CDR_BATCH_MAX_BYTES
        ):
            out[-1].append(path)
            size += length
        else:
            out.append([path])
            size = length
    return out


def ingest_batch(sources: list[Source], network: str | None = None) -> list[IngestReport]:
    """Take the files ``sources`` — all of one network — in **one** transaction (the module docstring): each
    file exactly once (a file taken before is skipped), all records rated and counted together. Batching
    matters when files wait (a backlog after an outage, a busy hour): the counters of a line are updated once
    per batch instead of once per file, and its alerts checked once. Returns one report per file, in order."""
    reports = [IngestReport(name=s.name, network=network or network_of(s.name) or "") for s in sources]
    for report in reports:
        if not report.network:
            report.rejected = "nom de fichier inconnu (ni Orange ni Bouygues Telecom)"
    live_sources = [(s, r) for s, r in zip(sources, reports, strict=True) if not r.rejected]
    if not live_sources:
        return reports
    networks = {r.network for _s, r in live_sources}
    if len(networks) > 1:
        raise ValueError(f"a batch holds the files of one network, not {sorted(networks)}")
    network = networks.pop()
    _ensure_current_partitions()
    with transaction.atomic(), connection.cursor() as cursor:
        # Sized for a batch's set-based statements (hash aggregates and sorts kept in memory); this
        # transaction only.
        cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.CDR_WORK_MEM])
        # ON COMMIT DROP frees them at the end of the batch's transaction; when that transaction is a
        # savepoint of an outer one (tests, a caller's atomic block), drop the previous batch's tables first.
        cursor.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")
        cursor.execute(
            f"CREATE TEMP TABLE _cdr_rec (seq integer, file_id bigint, line_no integer, {COLUMNS}, raw text) "
            "ON COMMIT DROP"
        )
        seq = 0
        live: list[IngestReport] = []
        for source, report in live_sources:
            seq = _load_file(cursor, report, network, source.read(), seq)
            if report.file_id is not None and not report.already and not report.rejected:
                live.append(report)
        if live:
            _process(cursor, live, network)
    return reports


def _ensure_current_partitions() -> None:
    """Partitions of last, this and next month, created outside the batch's transaction (a partition is DDL
    on the parent: keep it out of the long transaction)."""
    this = month_start()
    with transaction.atomic():
        partitions.ensure_partitions([add_months(this, -1), this, add_months(this, 1)])


def _load_file(cursor, report: IngestReport, network: str, data: bytes, seq: int) -> int:
    """Claim one file (``CdrFile``, unique by content), check its header and lines, ``COPY`` its good
    records into ``_cdr_rec`` (numbered on from ``seq``) and quarantine its bad ones. Returns the next seq."""
    cursor.execute(
        "INSERT INTO usage_cdrfile (network, name, sha256, size, state, lines, taken, duplicates, "
        "quarantined, error, received_at) VALUES (%s, %s, %s, %s, 'processing', 0, 0, 0, 0, '', now()) "
        "ON CONFLICT (sha256) DO NOTHING RETURNING id",
        [network, report.name, hashlib.sha256(data).hexdigest(), len(data)],
    )
    row = cursor.fetchone()
    if row is None:
        report.already = True
        return seq
    report.file_id = file_id = row[0]
    head, _, body = data.partition(b"\n")
    header = head.rstrip(b"\r").decode("utf-8", errors="replace").lstrip("\ufeff")
    report.lines = body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)
    if header != HEADERS[network]:
        report.rejected = f"en-tête inattendu pour {network} : « {header[:200]} »"
        cursor.execute(
            "UPDATE usage_cdrfile SET state = 'rejected', error = %s, lines = %s, finished_at = now() "
            "WHERE id = %s",
            [report.rejected, report.lines, file_id],
        )
        return seq
    body, bad_encoding = _utf8_lines(body)
    good, bad, seq = _read_lines(FORMATS[network], body.decode("utf-8"), file_id, seq)
    del body
    cursor.copy_expert("COPY _cdr_rec FROM STDIN", good)
    # Bad records: quarantined with their line and reason; the rest of the file is taken.
    now = timezone.now()
    execute_values(
        cursor.cursor,
        "INSERT INTO usage_cdrquarantine (file_id, line_no, reason, detail, raw, created_at) VALUES %s",
        [(file_id, no, reason, detail[:255], raw, now) for no, reason, detail, raw in bad]
        + [(file_id, no, "encoding", "octets non UTF-8", raw, now) for no, raw in bad_encoding],
    )
    return seq


def _process(cursor, live: list[IngestReport], network: str) -> None:
    """Attribute, rate, store and count the records of ``_cdr_rec`` (the files ``live``), then alerts."""
    # Future dates and numbers no line held at the event's time (the business clock is Django's, not the
    # database server's).
    horizon = timezone.now() + dt.timedelta(seconds=settings.CDR_FUTURE_TOLERANCE_SECONDS)
    # Older than the retention (its month's partition is gone, or soon will be): kept in quarantine only.
    oldest = month_bounds(add_months(month_start(), -(settings.CDR_RETENTION_MONTHS - 1)))[0]
    cursor.execute(
        """
        WITH out AS (
            DELETE FROM _cdr_rec WHERE event_at > %(horizon)s OR event_at < %(oldest)s
            RETURNING file_id, line_no, event_at, raw
        )
        INSERT INTO usage_cdrquarantine (file_id, line_no, reason, detail, raw, created_at)
        SELECT file_id, line_no, CASE WHEN event_at > %(horizon)s THEN 'future' ELSE 'too_old' END,
               'date ' || event_at, raw, now() FROM out
        """,
        {"horizon": horizon, "oldest": oldest},
    )
    # R-CON-6: a number is never reused, but a ported number may come back: the contract holding it at the
    # event's time is the latest one created before it and not terminated by then.
    # First the live line holding the number (at most one: a unique index), which serves almost every record;
    # then, for the others, the line that held it at the event's time among the terminated ones.
    # Taken once: a repeat inside the batch (same network, record id and time) is a duplicate here — the first
    # occurrence is kept; a record stored before (an earlier batch) is one at the insert (ON CONFLICT DO
    # NOTHING on its unique key) — counted below.
    cursor.execute(
        """
        CREATE TEMP TABLE _cdr_att ON COMMIT DROP AS
        SELECT DISTINCT ON (r.record_id, r.event_at)
               r.seq, r.file_id, r.line_no, r.record_id, r.msisdn, r.event_at, r.service, r.direction,
               r.country, r.usage_zone, r.destination, r.dest_country, r.dest_zone, r.quantity, r.premium,
               r.premium_billable, r.premium_fee, r.case_key, c.id AS contract_id, c.partner_id,
               date_trunc('month', r.event_at AT TIME ZONE 'Europe/Paris')::date AS month
        FROM _cdr_rec r
        LEFT JOIN contracts_contract c ON c.msisdn = r.msisdn AND c.state <> 'terminated'
             AND c.created_at <= r.event_at
        ORDER BY r.record_id, r.event_at, r.seq
        """
    )
    in_batch_duplicates: dict[int, int] = {}
    if cursor.rowcount != _scalar(cursor, "SELECT count(*) FROM _cdr_rec"):
        cursor.execute(
            "SELECT r.file_id, count(*) - count(a.seq) FROM _cdr_rec r LEFT JOIN _cdr_att a USING (seq) "
            "GROUP BY r.file_id"
        )
        in_batch_duplicates = dict(cursor.fetchall())
    cursor.execute(
        """
        UPDATE _cdr_att a SET contract_id = h.id, partner_id = h.partner_id
        FROM (
            SELECT DISTINCT ON (a.seq) a.seq, c.id, c.partner_id
            FROM _cdr_att a JOIN contracts_contract c ON c.msisdn = a.msisdn AND c.state = 'terminated'
                 AND c.created_at <= a.event_at AND c.terminated_at > a.event_at
            WHERE a.contract_id IS NULL
            ORDER BY a.seq, c.created_at DESC
        ) h
        WHERE a.seq = h.seq
        """
    )
    cursor.execute(
        """
        WITH out AS (DELETE FROM _cdr_att WHERE contract_id IS NULL RETURNING seq, file_id, line_no, msisdn,
                                                                                event_at)
        INSERT INTO usage_cdrquarantine (file_id, line_no, reason, detail, raw, created_at)
        SELECT o.file_id, o.line_no, 'unknown_number',
               'aucune ligne ne détenait le ' || o.msisdn || ' le ' || o.event_at, r.raw, now()
        FROM out o JOIN _cdr_rec r USING (seq)
        """
    )
    cursor.execute("SELECT DISTINCT month FROM _cdr_att")
    months = [row[0] for row in cursor.fetchall()]
    partitions.ensure_partitions(months)

    _rate(cursor, network)
    # Temporary tables have no statistics until analysed: without them the planner guesses sizes and sorts the
    # whole batch to merge-join the handful of allowance and fair-use rows.
    cursor.execute("ANALYZE _cdr_rated (contract_id, allowance, fair_use)")
    cursor.execute("ANALYZE _cdr_rank")
    cursor.execute(
        f"CREATE TEMP TABLE _cdr_final ON COMMIT DROP AS {FINAL_SQL}",  # noqa: S608 — a module constant
        {"network": network, "cptd": rules.CPTD_INCLUDED_BYTES, "max_call": rules.FAIR_USE_MAX_CALL_SECONDS},
    )
    cursor.execute(
        "CREATE TEMP TABLE _cdr_new (contract_id bigint, month date, metric text, czone text, service text, "
        "direction text, event_at timestamptz) ON COMMIT DROP"
    )
    # One statement: store the records (ins: a record already stored is skipped), and with the rows really
    # inserted only, upsert the counters (up) and keep what the alerts need (_cdr_new). Every data-modifying
    # part of a WITH runs to completion, read or not; the result is per file.
    cursor.execute(
        """
        WITH ins AS (
            INSERT INTO usage_cdr (event_at, network, record_id, file_id, line_no, partner_id, contract_id,
                month, msisdn, service, category, direction, usage_zone, dest_zone, destination, country, label,
                quantity, oop_quantity, amount_ht, unpriced, premium, premium_billable, rule)
            SELECT event_at, %(network)s, record_id, file_id, line_no, partner_id, contract_id, month, msisdn,
                service, category, direction, usage_zone, dest_zone, left(destination, 20),
                CASE WHEN service <> 'data' AND direction = 'out' THEN dest_country ELSE country END, label,
                quantity, oop, amount, unpriced, premium, premium_billable, rule
            FROM _cdr_final
            ON CONFLICT (network, record_id, event_at) DO NOTHING
            RETURNING file_id, line_no
        ), new AS (
            SELECT f.* FROM ins JOIN _cdr_final f USING (file_id, line_no)
        ), agg AS (
            SELECT partner_id, contract_id, month, metric, czone,
                   sum(quantity) AS quantity, sum(oop) AS oop, coalesce(sum(amount), 0) AS amount,
                   sum(CASE WHEN unpriced THEN oop ELSE 0 END) AS unpriced,
                   coalesce(sum(valued), 0) AS valued, count(*) AS events
            FROM new
            GROUP BY 1, 2, 3, 4, 5
        ), up AS (
            INSERT INTO usage_counter (partner_id, contract_id, month, metric, zone, quantity, oop_quantity,
                amount_ht, unpriced_quantity, valued_ht, events, updated_at)
            SELECT partner_id, contract_id, month, metric, czone, quantity, oop, amount, unpriced, valued,
                   events, now()
            FROM agg ORDER BY contract_id, month, metric, czone
            ON CONFLICT (contract_id, month, metric, zone) DO UPDATE SET
                quantity = usage_counter.quantity + EXCLUDED.quantity,
                oop_quantity = usage_counter.oop_quantity + EXCLUDED.oop_quantity,
                amount_ht = usage_counter.amount_ht + EXCLUDED.amount_ht,
                unpriced_quantity = usage_counter.unpriced_quantity + EXCLUDED.unpriced_quantity,
                valued_ht = usage_counter.valued_ht + EXCLUDED.valued_ht,
                events = usage_counter.events + EXCLUDED.events,
                updated_at = EXCLUDED.updated_at
        ), kept AS (
            INSERT INTO _cdr_new SELECT contract_id, month, metric, czone, service, direction, event_at FROM new
        ), rated AS (
            SELECT file_id, count(*) AS rated FROM _cdr_final GROUP BY file_id
        ), taken AS (
            SELECT file_id, count(*) AS taken, count(DISTINCT contract_id) AS contracts
            FROM new GROUP BY file_id
        )
        SELECT rated.file_id, rated.rated, coalesce(taken.taken, 0), coalesce(taken.contracts, 0)
        FROM rated LEFT JOIN taken USING (file_id)
        """,
        {"network": network},
    )
    counts = {file_id: (rated, taken, contracts) for file_id, rated, taken, contracts in cursor.fetchall()}
    cursor.execute(
        "SELECT file_id, reason, count(*) FROM usage_cdrquarantine WHERE file_id = ANY(%s) GROUP BY 1, 2",
        [[r.file_id for r in live]],
    )
    reasons: dict[int, dict[str, int]] = {}
    for file_id, reason, count in cursor.fetchall():
        reasons.setdefault(file_id, {})[reason] = count
    for report in live:
        rated, taken, contracts = counts.get(report.file_id, (0, 0, 0))
        report.taken, report.contracts = taken, contracts
        report.duplicates = in_batch_duplicates.get(report.file_id, 0) + rated - taken
        report.quarantine_reasons = reasons.get(report.file_id, {})
        report.quarantined = sum(report.quarantine_reasons.values())
        report.batch_files = len(live)
    execute_values(
        cursor.cursor,
        "UPDATE usage_cdrfile f SET state = 'done', lines = v.lines, taken = v.taken, duplicates = v.duplicates, "
        "quarantined = v.quarantined, finished_at = now() FROM (VALUES %s) AS v(id, lines, taken, duplicates, "
        "quarantined) WHERE f.id = v.id",
        [(r.file_id, r.lines, r.taken, r.duplicates, r.quarantined) for r in live],
    )
    from .services import usage_after_ingestion

    alerts = usage_after_ingestion(cursor=cursor, network=network)
    for report in live:
        report.alerts = alerts


def _scalar(cursor, sql: str) -> int:
    cursor.execute(sql)
    return int(cursor.fetchone()[0])


def _read_lines(
    fmt, text: str, file_id: int, seq: int
) -> tuple[io.StringIO, list[tuple[int, str, str, str]], int]:
    """The good lines as ``COPY`` text (batch sequence, file, line number, typed columns, the line itself),
    the bad ones (line number, reason, detail, line) and the next sequence number. A good line holds no tab
    nor backslash (its format's expression allows neither), so it needs no escaping. Empty lines are skipped;
    line numbers count the header as line 1."""
    good = io.StringIO()
    bad = []
    read = fmt.read
    write = good.write
    for no, line in enumerate(text.split("\n"), start=2):
        if line.endswith("\r"):
            line = line[:-1]
        if not line:
            continue
        typed, reason, detail = read(line)
        if typed is not None:
            seq += 1
            write(f"{seq}\t{file_id}\t{no}\t{typed}\t{line}\n")
        else:
            bad.append((no, reason, detail, line))
    good.seek(0)
    return good, bad, seq


def _utf8_lines(body: bytes) -> tuple[bytes, list[tuple[int, str]]]:
    """The body for COPY and the lines that are not UTF-8 (line number, text shown with replacements). A
    bad line is emptied in the body (an empty line is skipped by the parser), so line numbers stay true."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return body, []
    lines = body.split(b"\n")
    bad = []
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append((i + 2, line.decode("utf-8", errors="replace")))
            lines[i] = b""
    return b"\n".join(lines), bad


# --- rating -------------------------------------------------------------------------------------------------

_PLAN_SQL = """
    CREATE TEMP TABLE _cdr_plan ON COMMIT DROP AS
    WITH ro AS (
        SELECT DISTINCT ON (co.contract_id, co.zone) co.contract_id, co.zone, rc."limit", rc.unit,
               -- a Voice + SMS + Data roaming option (Travel, R-OPT-5) also includes calls and SMS in its zone
               CASE WHEN rc.kind = 'option' AND rc.option_type = 'voice_sms_data' THEN 'vsd' ELSE rc.kind END
               AS kind,
               nullif(rc.details ->> 'voice_seconds', '')::bigint AS vsd_voice,
               nullif(rc.details ->> 'sms', '')::bigint AS vsd_sms
        FROM contracts_contractoption co
        JOIN catalog_roamingchoice rc ON rc.id = co.roaming_choice_id
        WHERE co.contract_id IN (SELECT DISTINCT contract_id FROM _cdr_att)
          AND co.status IN ('active', 'terminating')
        ORDER BY co.contract_id, co.zone, co.activated_at DESC NULLS LAST, co.created_at DESC, co.id DESC
    )
    SELECT c.id AS contract_id, c.network, o.range, o.blocked, o.data_bytes,
           nullif(o.details #>> '{usa_canada,data_bytes}', '')::bigint AS travel_data,
           nullif(o.details #>> '{usa_canada,voice_seconds}', '')::bigint AS travel_voice,
           nullif(o.details #>> '{usa_canada,sms_sent}', '')::bigint AS travel_sms,
           max(ro.vsd_voice) FILTER (WHERE ro.zone = 'maghreb_turquie') AS vsd_voice_maghreb_turquie,
           max(ro.vsd_sms) FILTER (WHERE ro.zone = 'maghreb_turquie') AS vsd_sms_maghreb_turquie,
           max(ro.vsd_voice) FILTER (WHERE ro.zone = 'reste_du_monde') AS vsd_voice_reste_du_monde,
           max(ro.vsd_sms) FILTER (WHERE ro.zone = 'reste_du_monde') AS vsd_sms_reste_du_monde,
           c.network || '|' || o.range || '|'
             || CASE WHEN c.network = 'orange' THEN coalesce(max(ro.kind) FILTER (WHERE ro.zone = 'usa_canada'),
                'none') ELSE 'none' END || '|'
             || CASE WHEN c.network = 'orange' THEN coalesce(max(ro.kind) FILTER (WHERE ro.zone =
                'maghreb_turquie'), 'none') ELSE 'none' END || '|'
             || CASE WHEN c.network = 'orange' THEN coalesce(max(ro.kind) FILTER (WHERE ro.zone =
                'reste_du_monde'), 'none') ELSE 'none' END AS profile
    FROM contracts_contract c
    JOIN catalog_offer o ON o.id = c.offer_id
    LEFT JOIN ro ON ro.contract_id = c.id
    WHERE c.id IN (SELECT DISTINCT contract_id FROM _cdr_att)
    GROUP BY c.id, c.network, o.range, o.blocked, o.data_bytes, o.details
"""


#: Every rated record (``_cdr_rated``) with its out-of-plan part (fair use, allowances), amount HT from the
#: catalog's usage rates (NULL: « à tarifer ») and euro valuation — the ``f`` of the storing statement.
FINAL_SQL = """
        WITH a AS (  -- the few records drawing on a monthly allowance: used so far, in time order
            SELECT r.seq,
                   CASE r.allowance WHEN 'travel_usca_voice' THEN p.travel_voice
                                    WHEN 'travel_usca_sms' THEN p.travel_sms
                                    WHEN 'cptd_data' THEN %(cptd)s
                                    WHEN 'vsd_voice' THEN CASE r.czone
                                        WHEN 'maghreb_turquie' THEN p.vsd_voice_maghreb_turquie
                                        WHEN 'reste_du_monde' THEN p.vsd_voice_reste_du_monde END
                                    WHEN 'vsd_sms' THEN CASE r.czone
                                        WHEN 'maghreb_turquie' THEN p.vsd_sms_maghreb_turquie
                                        WHEN 'reste_du_monde' THEN p.vsd_sms_reste_du_monde END
                   END AS allow_limit,
                   coalesce(uc.quantity, 0) + sum(r.quantity) OVER (
                       PARTITION BY r.contract_id, r.month, r.allowance, r.czone
                       ORDER BY r.event_at, r.record_id ROWS UNBOUNDED PRECEDING) AS used_after
            FROM _cdr_rated r
            JOIN _cdr_plan p USING (contract_id)
            LEFT JOIN usage_counter uc ON uc.contract_id = r.contract_id AND uc.month = r.month
                 AND uc.metric = r.metric AND uc.zone = r.czone
            WHERE r.allowance <> ''
        ), o AS (
            SELECT r.*,
                   CASE WHEN r.metered THEN r.quantity
                        WHEN r.fair_use <> '' AND k.party IS NOT NULL THEN r.quantity
                        WHEN r.fair_use = 'call' THEN greatest(0, r.quantity - %(max_call)s)
                        WHEN a.allow_limit IS NOT NULL
                             THEN greatest(0, least(r.quantity, a.used_after - a.allow_limit))
                        ELSE 0 END AS oop
            FROM _cdr_rated r
            LEFT JOIN a USING (seq)
            LEFT JOIN _cdr_rank k ON k.contract_id = r.contract_id AND k.month = r.month
                 AND k.kind = r.fair_use AND k.party = r.destination
        )
        SELECT o.*,
               CASE WHEN o.premium THEN CASE WHEN o.premium_billable THEN o.premium_fee END
                    WHEN o.oop > 0 AND ur.price_ht IS NOT NULL
                         THEN round(o.oop * ur.price_ht / CASE ur.unit WHEN 'minute' THEN 60
                                    WHEN 'mo' THEN 1000000 ELSE 1 END, 4)
               END AS amount,
               (o.oop > 0 AND NOT o.premium AND ur.price_ht IS NULL) AS unpriced,
               CASE WHEN o.rate <> '' AND ur.price_ht IS NOT NULL AND o.service = 'data'
                    THEN round(o.quantity * ur.price_ht / 1000000, 4) END AS valued
        FROM o
        LEFT JOIN catalog_usagerate ur ON ur.network = %(network)s AND ur.code = o.rate AND ur.active
"""


def _rate(cursor, network: str) -> None:
    """``_cdr_att`` → ``_cdr_rated``: every record with its rating (matrix) and counter (metric, zone), and
    ``_cdr_rank``, the parties beyond fair use; ``FINAL_SQL`` then gives the out-of-plan parts."""
    cursor.execute(_PLAN_SQL)
    cursor.execute("SELECT DISTINCT profile FROM _cdr_plan")
    profiles = [rules.Profile.from_key(row[0]) for row in cursor.fetchall()]
    cursor.execute(
        """
        CREATE TEMP TABLE _cdr_matrix (profile text, case_key text, category text, metric text, czone text,
            metered boolean, rate text, rule text, label text, allowance text, fair_use text) ON COMMIT DROP
        """
    )
    buf = io.StringIO()
    for row in rules.rating_matrix(profiles):
        buf.write("\t".join(str(v).lower() if isinstance(v, bool) else str(v) for v in row) + "\n")
    buf.seek(0)
    cursor.copy_expert("COPY _cdr_matrix FROM STDIN WITH (FORMAT text, NULL '\\N')", buf)
    cursor.execute("ANALYZE _cdr_matrix")
    cursor.execute("ANALYZE _cdr_plan")
    cursor.execute(
        """
        CREATE TEMP TABLE _cdr_rated ON COMMIT DROP AS
        SELECT a.*, m.category, m.metric, m.czone, m.metered, m.rate, m.rule, m.label, m.allowance, m.fair_use
        FROM _cdr_att a
        JOIN _cdr_plan p USING (contract_id)
        JOIN _cdr_matrix m ON m.profile = p.profile AND m.case_key = a.case_key
        """
    )
    # R-CAT-11: distinct parties of the month, in order of first use.
    cursor.execute(
        """
        INSERT INTO usage_fair_use_party (contract_id, month, kind, party, first_at)
        SELECT contract_id, month, fair_use, destination, min(event_at) FROM _cdr_rated
        WHERE fair_use <> '' AND destination <> ''
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (contract_id, month, kind, party)
        DO UPDATE SET first_at = EXCLUDED.first_at WHERE EXCLUDED.first_at < usage_fair_use_party.first_at
        """
    )
    cursor.execute(
        """
        CREATE TEMP TABLE _cdr_rank ON COMMIT DROP AS
        WITH busy AS (  -- the lines of this file past 250 distinct parties this month: rare
            SELECT p.contract_id, p.month, p.kind
            FROM (SELECT DISTINCT contract_id, month, fair_use FROM _cdr_rated WHERE fair_use <> '') b
            JOIN usage_fair_use_party p ON p.contract_id = b.contract_id AND p.month = b.month
                 AND p.kind = b.fair_use
            GROUP BY 1, 2, 3 HAVING count(*) > %s
        )
        SELECT * FROM (
            SELECT p.contract_id, p.month, p.kind, p.party,
                   row_number() OVER (PARTITION BY p.contract_id, p.month, p.kind ORDER BY p.first_at, p.party)
                   AS rnk
            FROM usage_fair_use_party p JOIN busy USING (contract_id, month, kind)
        ) x WHERE rnk > %s
        """,
        [rules.FAIR_USE_MAX_PARTIES, rules.FAIR_USE_MAX_PARTIES],
    )
