"""The demo month of traffic (issue 7): called at the end of ``manage.py load_demo``, and by
``manage.py simulate_traffic --demo [--wait SECONDS]``.

For the demo partner's live lines (a number and a delivery date), the operators deliver the traffic from the 1st
of the current month (Europe/Paris) — or the line's delivery, if later — until now, as CDR files in
``settings.CDR_DROP_DIR`` (``provisioning/simulators/cdr_feeds/``, profile ``demo``: France and calls to zone 1,
so only the cases below stand out). Four lines get a case, chosen among the lines not yet given traffic, in
this order:

- ``roaming_cutoff``: an Orange Illimité line with a roaming cut-off in bytes outside Europe (the demo order
  chooses Maghreb/Turquie 500 Mo, ``contracts/demo.py``; failing that a roaming option) uses 110 % of it in that
  zone, over the last days of the period → alerts 80 % and 100 %, data cut in the zone (R-ALR-3, R-OPT-4);
- ``blocked_100``: a line of a blocked plan (OR-ILL-10G-B) uses 105 % of its France + Europe envelope → alert
  100 % and data cut (R-ALR-1/2);
- ``alert_80``: a line of a non-blocked plan (BY-ILL-30G-NB) uses 85 % of its envelope → alert 80 %;
- ``out_of_plan``: a line with calls makes 6 calls from France to countries outside zone 1 → out of plan
  (R-ROA-1).

Idempotent by a marker file, ``<drop dir>/.demo_traffic.json`` (hidden: the platform reads only the operators'
file names): a line (contract number + delivery instant) gets its traffic once, a case goes to one line once.
Nothing is read from ``usage``.

Lines are activated asynchronously: on a fresh database ``load_demo`` places the orders and the worker sends
them at the operators' windows (``provisioning/demo.py``), so the first ``load_demo`` finds no live line and
writes nothing (it says so). ``make run`` therefore also runs ``manage.py simulate_traffic --demo --wait 300``
beside the worker: each line gets its traffic as soon as it is delivered. The demo presents its lines as
delivered ``DEMO_DAYS`` (30) days ago (``_backdate``: demo data only) and gives them those 30 days of traffic —
the days of the previous month plain, the cases above in the current month, so their alerts and blocks are
this month's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from catalog.labels import zone_label
from contracts.models import Contract, ContractOption, Order
from core.clock import month_bounds, month_start
from core.money import format_bytes
from core.networks import Network
from partners.demo import DEMO_PARTNER_SLUG
from provisioning.simulators.cdr_feeds import TrafficLine, generate_traffic, write_feeds

DEMO_SEED = 2026
DEMO_DAYS = 30  # the demo lines are shown delivered 30 days ago, with 30 days of traffic
MARKER = ".demo_traffic.json"
ABROAD = ("usa_canada", "maghreb_turquie", "reste_du_monde")
ROAMING_SHARE, BLOCKED_SHARE, ALERT_SHARE, OUT_OF_PLAN_CALLS = 1.10, 1.05, 0.85, 6
CASES = ("roaming_cutoff", "blocked_100", "alert_80", "out_of_plan")


def _marker(drop: Path) -> dict:
    try:
        data = json.loads((drop / MARKER).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"lines": {}, "cases": {}}
    data.setdefault("lines", {})
    data.setdefault("cases", {})
    return data


def _save_marker(drop: Path, data: dict) -> None:
    part = drop / f".{MARKER}.part"
    part.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(part, drop / MARKER)


def _line_id(contract: Contract) -> str:
    return f"{contract.number}@{contract.delivered_at.isoformat()}"


def _live_lines(partner_slug: str) -> list[Contract]:
    current = ContractOption.objects.filter(
        status__in=[ContractOption.Status.PENDING, ContractOption.Status.ACTIVE], roaming_choice__isnull=False
    ).select_related("roaming_choice")
    return list(
        Contract.objects.filter(partner__slug=partner_slug, msisdn__isnull=False, delivered_at__isnull=False)
        .exclude(state=Contract.State.TERMINATED)
        .select_related("offer")
        .prefetch_related(Prefetch("options", queryset=current, to_attr="roaming_options"))
        .order_by("number")
    )


def demo_pending(partner_slug: str = DEMO_PARTNER_SLUG) -> bool:
    """Demo lines still being activated (no delivery yet)."""
    return Contract.objects.filter(
        partner__slug=partner_slug, state=Contract.State.PENDING, delivered_at__isnull=True
    ).exists()


def _roaming_limit(contract: Contract, kind: str) -> tuple[str, int] | None:
    """The line's current roaming choice of ``kind`` in bytes outside Europe with a limit: (zone, bytes)."""
    for option in getattr(contract, "roaming_options", []):
        choice = option.roaming_choice
        if choice.zone in ABROAD and choice.kind == kind and choice.unit == "bytes" and choice.limit > 0:
            return choice.zone, choice.limit
    return None


def _pick_cases(todo: list[Contract], cases: dict[str, str]) -> dict[str, tuple[Contract, object]]:
    """Assigns the cases not given yet (``cases``: case → line id) to lines of ``todo``: case → (line, value)."""
    taken: set[int] = set()
    out: dict[str, tuple[Contract, object]] = {}

    def first(candidates: Iterable[Contract]) -> Contract | None:
        return next((c for c in candidates if c.pk not in taken), None)

    orange_roaming = [c for c in todo if c.network == Network.ORANGE and TrafficLine.of(c).roams]
    if "roaming_cutoff" not in cases:
        for kind in (
            "cutoff",
            "option",
        ):  # a metered cut-off first (R-ALR-3), else a roaming option (R-OPT-4)
            line = first(c for c in orange_roaming if _roaming_limit(c, kind))
            if line is not None:
                zone, limit = _roaming_limit(line, kind)
                out["roaming_cutoff"] = (line, (zone, int(limit * ROAMING_SHARE), kind, limit))
                taken.add(line.pk)
                break
    with_data = [c for c in todo if c.offer.data_bytes]
    if "blocked_100" not in cases:
        line = first(c for c in with_data if c.offer.blocked)
        if line is not None:
            out["blocked_100"] = (line, BLOCKED_SHARE)
            taken.add(line.pk)
    if "alert_80" not in cases:
        line = first(c for c in with_data if not c.offer.blocked) or first(with_data)
        if line is not None:
            out["alert_80"] = (line, ALERT_SHARE)
            taken.add(line.pk)
    if "out_of_plan" not in cases:
        line = first(c for c in todo if TrafficLine.of(c).voice)
        if line is not None:
            out["out_of_plan"] = (line, OUT_OF_PLAN_CALLS)
            taken.add(line.pk)
    return out


def _describe(case: str, contract: Contract, value) -> str:
    who = f"{contract.msisdn} ({contract.user_name or contract.number}, {contract.offer.code})"
    if case == "roaming_cutoff":
        zone, volume, kind, limit = value
        what = "coupure" if kind == "cutoff" else "option"
        return (
            f"{who} : {format_bytes(volume)} de data en itinérance {zone_label(zone)} pour une {what} de "
            f"{format_bytes(limit)} (110 %) → alertes 80 % et 100 %, data coupée dans la zone"
        )
    if case == "blocked_100":
        return (
            f"{who} : 105 % de l'enveloppe data France + Europe (forfait bloqué) → alerte 100 %, data coupée"
        )
    if case == "alert_80":
        return f"{who} : 85 % de l'enveloppe data France + Europe → alerte 80 %"
    return f"{who} : {value} appels depuis la France vers l'international hors zone 1 → hors forfait"


def _backdate(lines: list[Contract], now: datetime) -> list[Contract]:
    """Demo only: the demo lines are presented as ordered and delivered ``DEMO_DAYS`` days ago, so that the
    demo shows a month of traffic (a line's records start at its delivery: the platform does not know a number
    before). Lines delivered earlier keep their dates."""
    since = now - dt.timedelta(days=DEMO_DAYS)
    recent = [c.pk for c in lines if c.delivered_at > since]
    if recent:
        Contract.objects.filter(pk__in=recent).update(created_at=since, delivered_at=since)
        Order.objects.filter(contracts__pk__in=recent, created_at__gt=since).update(created_at=since)
        ContractOption.objects.filter(contract_id__in=recent, activated_at__gt=since).update(
            created_at=since, activated_at=since
        )
        for contract in lines:
            if contract.pk in recent:
                contract.created_at = contract.delivered_at = since
    return lines


def demo_traffic(
    stdout,
    *,
    now: datetime | None = None,
    drop_dir: str | Path | None = None,
    partner_slug: str = DEMO_PARTNER_SLUG,
    quiet: bool = False,
) -> int:
    """Writes the demo month of CDR files for the demo lines not given traffic yet (see the module docstring);
    returns the number of records written. ``quiet``: say nothing when there is nothing to do."""
    now = now or timezone.now()
    drop = Path(drop_dir or settings.CDR_DROP_DIR)
    lines = _live_lines(partner_slug)
    pending = demo_pending(partner_slug)
    if not lines:
        if not quiet:
            stdout.write(
                "  Trafic de démonstration : aucune ligne active pour l'instant (activation asynchrone par le "
                "worker) ; il sera généré au prochain load_demo ou par « manage.py simulate_traffic --demo »."
            )
        return 0
    drop.mkdir(parents=True, exist_ok=True)
    marker = _marker(drop)
    todo = [c for c in lines if _line_id(c) not in marker["lines"]]
    if not todo:
        if not quiet:
            stdout.write(f"  Trafic de démonstration : déjà généré (fichiers dans {drop}).")
        return 0
    live_ids = {_line_id(c) for c in lines}
    cases = {case: line for case, line in marker["cases"].items() if line in live_ids}
    picked = _pick_cases(todo, cases)
    data_share, roaming, international = {}, {}, {}
    for case, (contract, value) in picked.items():
        if case == "roaming_cutoff":
            roaming[contract.pk] = (value[0], value[1])
        elif case == "out_of_plan":
            international[contract.pk] = value
        else:
            data_share[contract.pk] = value
    todo = _backdate(todo, now)
    start = now - dt.timedelta(days=DEMO_DAYS)
    month = month_bounds(month_start(now))[0]
    # The month before (if the 30 days reach into it): plain traffic, shown in the journal's earlier months.
    # This month: the cases above, so their alerts and blocks are the current month's.
    passes = [(start, month, {}, {}, {})] if start < month else []
    passes.append((max(start, month), now, data_share, roaming, international))
    written = write_feeds(
        (
            event
            for since, until, shares, roams, calls in passes
            for event in generate_traffic(
                todo,
                since,
                until,
                seed=DEMO_SEED,
                profile="demo",
                data_share=shares,
                roaming=roams,
                international=calls,
                now=now,
            )
        ),
        drop,
        now=now,
    )
    for contract in todo:
        case = next((c for c, (line, _) in picked.items() if line.pk == contract.pk), "")
        marker["lines"][_line_id(contract)] = {"until": now.isoformat(), "case": case}
    marker["cases"] = cases | {case: _line_id(contract) for case, (contract, _) in picked.items()}
    _save_marker(drop, marker)

    stdout.write(
        f"  Trafic de démonstration : {written.records} enregistrement(s) pour {len(todo)} ligne(s), "
        f"du {timezone.localtime(start):%d/%m/%Y} à "
        f"{timezone.localtime(now):%d/%m/%Y %H:%M}, dans {len(written)} fichier(s) CDR ({drop}) ; "
        "la plateforme les intègre (tâche périodique du worker)."
    )
    for case in CASES:
        if case in picked:
            stdout.write(f"    - {_describe(case, *picked[case])}")
    missing = [case for case in CASES if case not in picked and case not in cases]
    if missing:
        stdout.write(
            f"    cas non attribués faute de ligne active adaptée : {', '.join(missing)}"
            + (" (des lignes sont encore en cours d'activation)" if pending else "")
        )
    return written.records
