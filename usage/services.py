"""Writes of usage after the records are stored (issue 7, item 5): alerts and blocking (R-ALR-1..5),
Orange SMS fair use (R-CAT-11), the drop folder pick-up and retention.

Alerts are exactly once per line, month, scope, zone and threshold: the rows go in with ``INSERT … ON CONFLICT
DO NOTHING RETURNING``, and only the rows really inserted send their SMS and emails (through the outbox, in the
same transaction) — so two workers ingesting files of the same line at once alert once. Blocking is a contract
action (``contracts.datablocks.contract_data_block``), itself exactly once per open block; it is checked on
every ingestion, so a line that goes past its envelope again after a top-up is blocked again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg2.extras import execute_values

from catalog.models import UsageRate
from contracts import datablocks
from contracts.selectors import topup_volume_for_month
from core.clock import month_start
from core.money import format_bytes
from notifications.partners import AUDIENCE_USAGE_ALERTS, partner_notify, partner_staff_recipients
from notifications.services import outbox_enqueue_sms
from partners.models import Partner

from . import partitions, rules
from .models import Metric, UsageAlert

logger = logging.getLogger(__name__)

SCOPE_TEXT = {
    "data": _("de son enveloppe data France + Europe"),
    "roaming": _("de sa coupure d'itinérance %(zone)s"),
    "threshold": _("de son seuil data"),
}
ZONE_TEXT = {
    "usa_canada": "USA/Canada",
    "maghreb_turquie": "Maghreb/Turquie",
    "reste_du_monde": "Reste du monde",
    "europe": "Europe",
    "monde": "Monde",
}


@dataclass(frozen=True)
class _Line:
    id: int
    partner_id: int
    number: str
    network: str
    range: str
    blocked: bool | None
    data_bytes: int | None
    travel_data: int | None
    msisdn: str
    user_name: str
    contact_mobile: str
    threshold: int | None


def usage_after_ingestion(*, cursor, network: str) -> int:
    """After a file's records are stored (inside its transaction): Orange SMS fair use, then alerts and
    blocks of the lines touched in the current month. Returns the number of new alerts."""
    if network == "orange":
        _orange_sms_per_hour(cursor)
    month = month_start()
    # Only a watch whose usage grew can reach a threshold, and only lines near their envelope, on roaming, or
    # with a compteur threshold can — and not a line whose envelope alerts are all sent and whose data is
    # already cut: a set-based pre-selection (the envelope without the month's top-ups is a lower bound, so
    # none is missed), then ``alerts_check`` on these lines.
    cursor.execute(
        """
        WITH b AS (
            SELECT contract_id, bool_or(metric = 'roaming_data' OR czone <> '') AS roaming,
                   bool_or(metric = 'data') AS data
            FROM _cdr_new WHERE month = %(month)s GROUP BY contract_id
        )
        SELECT b.contract_id FROM b JOIN _cdr_plan p USING (contract_id)
        LEFT JOIN LATERAL (
            SELECT sum(u.quantity) AS used FROM usage_counter u
            WHERE u.contract_id = b.contract_id AND u.month = %(month)s AND u.metric = 'data'
        ) d ON true
        WHERE b.roaming OR (b.data AND (
            p.range IN ('compteur', 'compteur_data')
            OR (p.data_bytes IS NOT NULL AND d.used * 100 >= p.data_bytes * 80
                -- a line whose envelope alerts are all sent and whose data is cut (blocked plans) is settled
                AND NOT (EXISTS (SELECT 1 FROM usage_alert a WHERE a.contract_id = b.contract_id
                                 AND a.month = %(month)s AND a.scope = 'data'
                                 AND a.threshold = CASE WHEN p.network = 'bouygues' AND NOT p.blocked THEN 80
                                                        ELSE 100 END)
                         AND (NOT p.blocked OR p.range = 'travel'
                              OR EXISTS (SELECT 1 FROM contracts_datablock k WHERE k.contract_id = b.contract_id
                                         AND k.scope = 'data' AND k.lifted_at IS NULL))))))
        """,
        {"month": month},
    )
    ids = [row[0] for row in cursor.fetchall()]
    return len(alerts_check(contract_ids=ids, month=month)) if ids else 0


def _orange_sms_per_hour(cursor) -> None:
    """R-CAT-11: beyond 500 SMS sent in an hour, Orange suspends SMS sending for 3 days (best effort):
    the platform asks it (``contract_sms_bar``, once per open bar)."""
    cursor.execute(
        """
        SELECT u.contract_id FROM usage_cdr u
        JOIN (SELECT DISTINCT contract_id, date_trunc('hour', event_at) AS h FROM _cdr_new
              WHERE service = 'sms' AND direction = 'out') b
          ON u.contract_id = b.contract_id AND u.event_at >= b.h AND u.event_at < b.h + interval '1 hour'
        WHERE u.service = 'sms' AND u.direction = 'out'
        GROUP BY u.contract_id, b.h HAVING count(*) > %s
        """,
        [rules.ORANGE_MAX_SMS_PER_HOUR],
    )
    for contract_id in sorted({row[0] for row in cursor.fetchall()}):
        datablocks.contract_sms_bar(
            contract_id=contract_id,
            days=rules.ORANGE_SMS_BAR_DAYS,
            rule="R-CAT-11",
            reason=_("Plus de %(n)s SMS envoyés en une heure : envois de SMS suspendus %(days)s jours.")
            % {"n": rules.ORANGE_MAX_SMS_PER_HOUR, "days": rules.ORANGE_SMS_BAR_DAYS},
        )


# --- alerts and blocks --------------------------------------------------------------------------------------


def _lines(contract_ids: list[int]) -> list[_Line]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.id, c.partner_id, c.number, c.network, o.range, o.blocked, o.data_bytes,
                   nullif(o.details #>> '{usa_canada,data_bytes}', '')::bigint,
                   coalesce(c.msisdn, ''), c.user_name, c.contact_mobile, c.data_threshold_bytes
            FROM contracts_contract c JOIN catalog_offer o ON o.id = c.offer_id
            WHERE c.id = ANY(%s) AND c.state IN ('active', 'suspended')
            ORDER BY c.id
            """,
            [contract_ids],
        )
        return [_Line(*row) for row in cursor.fetchall()]


def _roaming_limits(contract_ids: list[int]) -> dict[int, dict[str, tuple[int, str]]]:
    """Per contract and zone, the limit of the roaming choice in force (R-OPT-4: the latest option's, never
    the sum) and its unit (bytes, or euros for Bouygues)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT DISTINCT ON (co.contract_id, co.zone) co.contract_id, co.zone, rc."limit", rc.unit
            FROM contracts_contractoption co JOIN catalog_roamingchoice rc ON rc.id = co.roaming_choice_id
            WHERE co.contract_id = ANY(%s) AND co.status IN ('active', 'terminating')
            ORDER BY co.contract_id, co.zone, co.activated_at DESC NULLS LAST, co.created_at DESC, co.id DESC
            """,
            [contract_ids],
        )
        out: dict[int, dict[str, tuple[int, str]]] = defaultdict(dict)
        for contract_id, zone, limit, unit in cursor.fetchall():
            out[contract_id][zone] = (int(limit), unit)
        return out


def line_watches(line: _Line, roaming: dict[str, tuple[int, str]], topup: int) -> list[rules.Watch]:
    """What to watch on ``line`` this month (R-ALR-1..3, R-CAT-4, R-CAT-7/8)."""
    watches = []
    envelope = None if line.data_bytes is None else line.data_bytes + topup
    if line.range == rules.COMPTEUR_DATA:
        envelope = None  # 500 Mo included then tiers: nothing to block on but the threshold
    w = rules.data_watch(network=line.network, range_=line.range, blocked=line.blocked, envelope=envelope)
    if w is not None:
        watches.append(w)
    if line.range in (rules.COMPTEUR, rules.COMPTEUR_DATA) and line.threshold:
        watches.append(rules.threshold_watch(limit=line.threshold + topup))
    if line.range == "travel" and line.travel_data:
        watches.append(rules.roaming_watch(zone=rules.USA_CANADA, limit=line.travel_data, unit="bytes"))
    for zone, (limit, unit) in sorted(roaming.items()):
        if line.network == "orange" and zone not in rules.OUTSIDE_EUROPE:
            continue  # R-ROA-3: Orange's Europe cut-off is the envelope itself
        if line.range == "travel" and zone == rules.USA_CANADA:
            continue
        watches.append(rules.roaming_watch(zone=zone, limit=limit, unit=unit))
    return watches


def _used(watch: rules.Watch, counters: dict[tuple[str, str], tuple[int, Decimal]]) -> int | Decimal:
    """What counts against ``watch`` from the month's counters ((metric, zone) → (quantity, valued_ht))."""
    if watch.scope in ("data", "threshold"):
        # The envelope: France and Europe (Bouygues Europe data is kept in zone « europe »).
        return sum(q for (metric, _zone), (q, _v) in counters.items() if metric == Metric.DATA)
    metric = Metric.DATA if watch.zone == rules.BOUYGUES_EUROPE else Metric.ROAMING_DATA
    quantity, valued = counters.get((metric, watch.zone), (0, Decimal(0)))
    if watch.unit != "eur" or watch.limit == 0:
        return quantity  # bytes; a 0 € cut-off is reached by any use, priced or not
    return valued  # R-ROA-4: Bouygues cut-offs in euros — the data valued at the catalog rate


def _euro_rate_missing(network: str) -> set[str]:
    """Bouygues zones whose data rate is « à tarifer »: their euro cut-off cannot be valued (only a 0 €
    cut-off, reached by any use, can be checked)."""
    if network != "bouygues":
        return set()
    priced = set(
        UsageRate.objects.filter(
            network="bouygues",
            code__in=["roam_data_europe", "roam_data_monde"],
            price_ht__isnull=False,
            active=True,
        ).values_list("code", flat=True)
    )
    return {zone for zone in ("europe", "monde") if f"roam_data_{zone}" not in priced}


@transaction.atomic
def alerts_check(*, contract_ids: list[int], month: dt.date | None = None) -> list[UsageAlert]:
    """Alerts reached by the lines ``contract_ids`` in ``month`` (default: this month) — each inserted once
    (R-ALR-1..3), notified by SMS to the line's user and email to the partner (R-ALR-4); data blocked when a
    blocking limit is reached (R-ALR-1..3, R-CAT-4, R-CAT-7). Returns the alerts created by this call."""
    month = month or month_start()
    lines = _lines(sorted(set(contract_ids)))
    if not lines:
        return []
    ids = [line.id for line in lines]
    roaming = _roaming_limits(ids)
    topups = topup_volume_for_month(ids, month)
    counters: dict[int, dict[tuple[str, str], tuple[int, Decimal]]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contract_id, metric, zone, quantity, valued_ht FROM usage_counter "
            "WHERE contract_id = ANY(%s) AND month = %s AND metric IN ('data', 'roaming_data')",
            [ids, month],
        )
        for contract_id, metric, zone, quantity, valued in cursor.fetchall():
            counters[contract_id][(metric, zone)] = (quantity, valued)
    missing_rates = {net: _euro_rate_missing(net) for net in {line.network for line in lines}}
    now = timezone.now()
    candidates: list[tuple[_Line, rules.Watch, int, int | Decimal]] = []
    to_block: list[tuple[_Line, rules.Watch]] = []
    for line in lines:
        for watch in line_watches(line, roaming.get(line.id, {}), topups.get(line.id, 0)):
            used = _used(watch, counters[line.id])
            if watch.unit == "eur" and watch.zone in missing_rates[line.network] and watch.limit > 0:
                continue
            for threshold in watch.thresholds:
                if rules.reached(used, watch.limit, threshold):
                    candidates.append((line, watch, threshold, used))
            if watch.blocks and rules.reached(used, watch.limit, 100):
                to_block.append((line, watch))
    created = _insert_alerts(candidates, month, now)
    by_key = {(line.id, w.scope, w.zone, t): (line, w) for line, w, t, _u in candidates}
    # One lookup per partner of its row and of the staff who opted in, not one per alert.
    partners = Partner.objects.in_bulk({line.partner_id for line in lines})
    recipients = {
        pk: partner_staff_recipients(partner, AUDIENCE_USAGE_ALERTS) for pk, partner in partners.items()
    }
    for alert in created:
        line, watch = by_key[(alert.contract_id, alert.scope, alert.zone, alert.threshold)]
        _notify(alert, line, watch, partners[line.partner_id], recipients[line.partner_id])
    for line, watch in to_block:
        datablocks.contract_data_block(
            contract_id=line.id,
            scope=watch.scope,
            zone=watch.zone,
            rule=watch.rule,
            reason=_block_reason(watch),
        )
    return created


def _insert_alerts(candidates, month: dt.date, now: dt.datetime) -> list[UsageAlert]:
    if not candidates:
        return []
    rows = [
        (
            line.partner_id,
            line.id,
            month,
            watch.scope,
            watch.zone,
            threshold,
            int(used),
            watch.limit,
            watch.unit,
            watch.blocks and threshold == 100,
            watch.rule,
            now,
        )
        for line, watch, threshold, used in candidates
    ]
    with connection.cursor() as cursor:
        created = execute_values(
            cursor.cursor,
            'INSERT INTO usage_alert (partner_id, contract_id, month, scope, zone, threshold, used, "limit", '
            "unit, blocks, rule, created_at) VALUES %s "
            "ON CONFLICT (contract_id, month, scope, zone, threshold) DO NOTHING RETURNING id",
            rows,
            fetch=True,
        )
    return list(UsageAlert.objects.filter(pk__in=[row[0] for row in created]).order_by("id"))


def _amount(value: int, unit: str) -> str:
    return f"{value} €" if unit == "eur" else format_bytes(value)


def _what(watch: rules.Watch) -> str:
    return SCOPE_TEXT[watch.scope] % {"zone": ZONE_TEXT.get(watch.zone, watch.zone)}


def _block_reason(watch: rules.Watch) -> str:
    return _("Limite atteinte : 100 %% %(what)s (%(limit)s).") % {
        "what": _what(watch),
        "limit": _amount(watch.limit, watch.unit),
    }


def _notify(
    alert: UsageAlert, line: _Line, watch: rules.Watch, partner: Partner, recipients: list[str]
) -> None:
    """R-ALR-4: an SMS to the line's user and an email to the partner's users, through the outbox."""
    what = _what(watch)
    used = _amount(alert.used, alert.unit)
    limit = _amount(alert.limit, alert.unit)
    blocked = alert.blocks
    sms = _("Votre ligne %(msisdn)s a atteint %(t)s %% %(what)s ce mois-ci (%(used)s sur %(limit)s).") % {
        "msisdn": line.msisdn,
        "t": alert.threshold,
        "what": what,
        "used": used,
        "limit": limit,
    }
    if blocked:
        sms += " " + _("La data est coupée jusqu'au 1er du mois prochain ou jusqu'à une recharge.")
    # Data only, M2M and compteur data lines have no SMS: the contact mobile of the line, if any, is told.
    to = line.msisdn if line.range in rules.UNLIMITED_RANGES | {rules.COMPTEUR} else line.contact_mobile
    if to:
        try:
            outbox_enqueue_sms(
                partner=partner, to=to, text=sms, dedup_key=f"usage-alert-sms-{alert.pk}", ref=alert
            )
        except Exception:  # noqa: BLE001 — a number the gateway cannot take must not stop the ingestion
            logger.warning("usage alert %s: SMS to %r not queued", alert.pk, to, exc_info=True)
    partner_notify(
        partner=partner,
        subject=_("Alerte consommation %(t)s %% — ligne %(msisdn)s")
        % {"t": alert.threshold, "msisdn": line.msisdn},
        template="notifications/email/partner_message",
        context={
            "title": _("Alerte de consommation"),
            "intro": _("La ligne %(msisdn)s a atteint %(t)s %% %(what)s.")
            % {"msisdn": line.msisdn, "t": alert.threshold, "what": what},
            "details": [
                (_("Ligne"), line.msisdn),
                (_("Utilisateur"), line.user_name or "—"),
                (_("Contrat"), line.number),
                (_("Consommé"), used),
                (_("Limite"), limit),
                (_("Mois"), alert.month.strftime("%m/%Y")),
            ],
            "outro": _(
                "La data de la ligne est coupée : une recharge ou un changement de coupure la débloque."
            )
            if blocked
            else "",
        },
        dedup_key=f"usage-alert-{alert.pk}",
        ref=alert,
        audience=AUDIENCE_USAGE_ALERTS,  # R-ALR-4: the staff who opted in to « Alertes de consommation »
        recipients=recipients,
    )


# --- drop folder and retention ------------------------------------------------------------------------------


def ingest_dropped_files(*, drop_dir: Path | str | None = None, network: str | None = None) -> list:
    """Take every complete file of the drop folder (``CDR_DROP_DIR``; the operators write ``.<name>.part``
    and rename it when complete) — of one ``network`` or all — oldest name first, and move it to
    ``archive/<YYYY-MM>/`` once taken. A file taken before (same content) is only moved; a file another worker
    moved meanwhile is skipped.

    Beat runs one pick-up per network: a line belongs to one network, so the two streams never touch the same
    counters or fair-use rows and run side by side on two workers, while the files of one network are taken
    in their order (two files of the same line at once would wait on each other's rows)."""

    folder = Path(drop_dir or settings.CDR_DROP_DIR)
    if not folder.is_dir():
        return []
    with _pickup_lock(network) as mine:
        if not mine:
            return []  # a pick-up of this stream is still running (a long file): it takes the new files too
        return _ingest_folder(folder, network)


@contextmanager
def _pickup_lock(network: str | None):
    """One pick-up per stream at a time: a session-level advisory lock (released when the pick-up ends, or
    with the connection if the worker dies)."""
    key = {"orange": 1, "bouygues": 2}.get(network or "", 0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(7008, %s)", [key])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(7008, %s)", [key])


def _ingest_folder(folder: Path, network: str | None) -> list:
    """The files waiting in ``folder``, in batches (``ingestion.batches``: one network, at most
    ``CDR_BATCH_MAX_BYTES`` each, one transaction each); a batch that fails is taken again file by file, so
    one bad file holds up no other."""
    from .ingestion import Source, batches, ingest_batch, network_of

    names = (p for p in folder.iterdir() if p.is_file() and network_of(p.name))
    paths = sorted(p for p in names if network is None or network_of(p.name) == network)
    reports = []
    for batch in batches(paths):
        groups = [batch]
        while groups:
            group = groups.pop(0)
            try:
                taken = ingest_batch([Source.of_path(path) for path in group])
            except FileNotFoundError:
                # another worker took and archived one of them: the rest, one by one
                groups = [[path] for path in group if path.exists()] + groups if len(group) > 1 else groups
                continue
            except Exception:
                if len(group) > 1:
                    groups = [[path] for path in group] + groups
                    continue
                # Nothing of the file was kept (one transaction): it stays in the folder and is tried again at
                # the next pick-up; the files after it are not held up.
                logger.exception("CDR file %s not ingested; it will be tried again", group[0].name)
                continue
            reports += taken
            _archive(folder, group)
    return reports


def _archive(folder: Path, paths: list[Path]) -> None:
    archive = folder / "archive" / timezone.localdate().strftime("%Y-%m")
    archive.mkdir(parents=True, exist_ok=True)
    for path in paths:
        try:
            os.replace(path, archive / path.name)
        except FileNotFoundError:
            pass


def cdr_partitions_drop_old(*, now: dt.datetime | None = None) -> list[str]:
    """Raw records are kept ``CDR_RETENTION_MONTHS`` months; older monthly partitions are dropped (counters,
    alerts and the quarantine stay)."""
    with transaction.atomic():
        return partitions.drop_old_partitions(now=now)
