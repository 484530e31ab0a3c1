"""Writes of the inventory: allocation, assignment to clients, release, retirement, imports.

Allocation (``sim_allocate``, ``number_allocate``, ``esim_allocate``, ``*_mark_in_use``, ``*_release``,
``*_retire``) is called by other domains **inside their own transaction** (the order, the SIM swap, the
termination): those functions refuse to run outside ``transaction.atomic()`` so that the row locks they take
(``SELECT … FOR UPDATE SKIP LOCKED``) last until the caller commits, and a refused order leaves nothing behind.
Each call costs a constant number of queries whatever the quantity (one locking SELECT, one UPDATE, and one
INSERT where a register row is written): an order of 1,000 lines allocates its stock in a handful of queries.

Assignment and import services (``sim_assign*``, ``sim_release*``, ``*_import_*``) are called by the
back-office, the API and the management commands, and open their own transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.functions import Length
from django.db.transaction import TransactionManagementError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import RuleViolation, ValidationFailed
from core.networks import Network
from partners.models import ClientAccount, Partner

from . import importing, rules
from .models import EsimProfile, PhoneNumber, RetiredIdentifier, SimCard

Progress = Callable[[str, int, int], None]  # (phase, done, total)

IMPORT_BATCH = 2000
IMPORT_CHECK_BATCH = 5000  # good rows checked against the database at once
NUMBER_RANGE_MAX = 10_000


@dataclass(frozen=True)
class RangeResult:
    """Outcome of a range assignment/release (R-SC-7): how many SIMs moved, how many of the partner's SIMs in
    the range were left alone because they were not in the required state."""

    count: int
    skipped: int


# --- helpers ---------------------------------------------------------------------------------------------


def _require_atomic() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError(
            "inventory allocation must run inside the caller's transaction.atomic() block"
        )


def _check_client(partner: Partner, client: ClientAccount | None) -> None:
    if client is not None and client.partner_id != partner.id:
        raise RuleViolation(_("Ce client n'appartient pas à votre compte."), field="client_id")


def _network_label(network: str) -> str:
    return str(Network(network).label)


def _normalize_iccids(iccids: Iterable[str], field: str = "iccids", *, unique: bool = False) -> list[str]:
    """Valid, normalized ICCIDs in the given order; repeats dropped, or refused when ``unique``."""
    result: list[str] = []
    for raw in iccids:
        reason = rules.iccid_error(raw)
        if reason:
            raise RuleViolation(f"{raw} : {reason}", field=field)
        iccid = rules.normalize_iccid(raw)
        if iccid in result and unique:
            raise RuleViolation(
                _("La carte SIM %(iccid)s est choisie plusieurs fois.") % {"iccid": iccid}, field=field
            )
        if iccid not in result:
            result.append(iccid)
    if not result:
        raise RuleViolation(_("Indiquez au moins un ICCID."), field=field)
    return result


def _range_bounds(first_iccid: str, last_iccid: str) -> tuple[str, str]:
    for field, value in (("first_iccid", first_iccid), ("last_iccid", last_iccid)):
        reason = rules.iccid_error(value)
        if reason:
            raise RuleViolation(reason, field=field, rule="R-SC-7")
    first, last = rules.normalize_iccid(first_iccid), rules.normalize_iccid(last_iccid)
    reason = rules.iccid_range_error(first, last)
    if reason:
        raise RuleViolation(reason, field="last_iccid", rule="R-SC-7")
    return first, last


def _sims_in_range(partner: Partner, first: str, last: str):
    return (
        SimCard.objects.filter(partner=partner, iccid__gte=first, iccid__lte=last)
        .annotate(iccid_length=Length("iccid"))
        .filter(iccid_length=len(first))
    )


def _join(values: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(values[:limit])
    return shown + (_(" … (%(n)d de plus)") % {"n": len(values) - limit} if len(values) > limit else "")


# --- allocation (inside the caller's transaction) ---------------------------------------------------------


def sim_allocate(
    *,
    partner: Partner,
    network: str,
    client: ClientAccount | None = None,
    count: int,
    with_pin: bool,
) -> list[SimCard]:
    """Take ``count`` physical SIMs for new lines and mark them ``in_use`` (for ``client``).

    Draws first from the SIMs the partner assigned to ``client`` (R-SC-7), then from the partner's unassigned
    stock, in ICCID order; ``with_pin`` picks SIMs with a PIN or « sans PIN » (R-ORD-2). Retired SIMs are never
    candidates (R-CON-6). Rows locked by a concurrent order are skipped (``SKIP LOCKED``), so two orders never
    get the same SIM. Not enough stock → ``RuleViolation`` (field ``sim_type``, R-ORD-2), nothing changed.
    Two queries whatever ``count``. Requires an outer ``transaction.atomic()``."""
    _require_atomic()
    _check_client(partner, client)
    if count <= 0:
        return []
    pool = SimCard.objects.filter(partner=partner, network=network, pin__isnull=not with_pin)
    if client is None:
        pool = pool.filter(state=SimCard.State.IN_STOCK).order_by("iccid")
    else:
        pool = pool.filter(
            Q(state=SimCard.State.IN_STOCK) | Q(state=SimCard.State.ASSIGNED, client=client)
        ).order_by(
            Case(
                When(state=SimCard.State.ASSIGNED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            "iccid",
        )
    sims = list(pool.select_for_update(skip_locked=True)[:count])
    if len(sims) < count:
        raise RuleViolation(
            _(
                "Stock de cartes SIM insuffisant : %(wanted)d SIM %(network)s %(pin)s demandée(s), "
                "%(available)d disponible(s)."
            )
            % {
                "wanted": count,
                "network": _network_label(network),
                "pin": _("avec PIN") if with_pin else _("sans PIN"),
                "available": len(sims),
            },
            field="sim_type",
            rule="R-ORD-2",
        )
    now = timezone.now()
    SimCard.objects.filter(pk__in=[s.pk for s in sims]).update(
        state=SimCard.State.IN_USE, client=client, updated_at=now
    )
    for sim in sims:
        sim.state, sim.client, sim.updated_at = SimCard.State.IN_USE, client, now
    return sims


def number_allocate(
    *,
    partner: Partner,
    network: str,
    count: int,
    chosen: list[str] | None = None,
    client: ClientAccount | None = None,
    kind: str = PhoneNumber.Kind.MOBILE,
) -> list[PhoneNumber]:
    """Reserve ``count`` numbers of the partner's pool for new lines (state ``reserved``).

    ``chosen`` numbers (at most ``count``) are taken first and must all be available in the partner's pool of
    that network, otherwise ``RuleViolation`` (field ``number``, R-ORD-2) naming them; the rest are drawn at
    random among the available numbers (R-CON-6). The result lists the chosen numbers in the given order, then
    the drawn ones. Retired numbers are never candidates (R-CON-6); rows locked by a concurrent order are
    skipped. Pool exhausted → ``RuleViolation`` (field ``number``, R-CON-6), nothing changed. At most three
    queries whatever ``count``. Requires an outer ``transaction.atomic()``."""
    _require_atomic()
    _check_client(partner, client)
    wanted = [rules.normalize_msisdn(m) for m in chosen or []]
    if len(set(wanted)) != len(wanted):
        duplicates = sorted({m for m in wanted if wanted.count(m) > 1})
        raise RuleViolation(
            _("Un même numéro est choisi pour plusieurs lignes : %(numbers)s.")
            % {"numbers": _join(duplicates)},
            field="number",
            rule="R-ORD-2",
        )
    if len(wanted) > count:
        raise RuleViolation(
            _("%(chosen)d numéros choisis pour %(count)d ligne(s).")
            % {"chosen": len(wanted), "count": count},
            field="number",
            rule="R-ORD-2",
        )
    if count <= 0:
        return []
    pool = PhoneNumber.objects.filter(
        partner=partner, network=network, kind=kind, state=PhoneNumber.State.AVAILABLE
    )
    picked: list[PhoneNumber] = []
    if wanted:
        # Wait for (not skip) a chosen number locked elsewhere: if that order fails, the number is free again.
        # Locks are taken in msisdn order so two orders choosing the same numbers cannot deadlock.
        found = {n.msisdn: n for n in pool.filter(msisdn__in=wanted).order_by("msisdn").select_for_update()}
        missing = [m for m in wanted if m not in found]
        if missing:
            raise RuleViolation(
                _("Numéro(s) non disponible(s) dans votre réserve %(network)s : %(numbers)s.")
                % {"network": _network_label(network), "numbers": _join(missing)},
                field="number",
                rule="R-ORD-2",
            )
        picked = [found[m] for m in wanted]
    rest = count - len(picked)
    if rest:
        drawn = list(
            pool.exclude(pk__in=[n.pk for n in picked])
            .order_by("?")
            .select_for_update(skip_locked=True)[:rest]
        )
        if len(drawn) < rest:
            raise RuleViolation(
                _(
                    "Plus assez de numéros disponibles dans votre réserve %(network)s : %(wanted)d demandé(s), "
                    "%(available)d disponible(s)."
                )
                % {"network": _network_label(network), "wanted": rest, "available": len(drawn)},
                field="number",
                rule="R-CON-6",
            )
        picked += drawn
    now = timezone.now()
    PhoneNumber.objects.filter(pk__in=[n.pk for n in picked]).update(
        state=PhoneNumber.State.RESERVED, client=client, updated_at=now
    )
    for number in picked:
        number.state, number.client, number.updated_at = PhoneNumber.State.RESERVED, client, now
    return picked


def _new_esim_iccid() -> str:
    # 8933 (France) + 01 (Orange) + 9 (eSIM range) + 12 random digits + Luhn = 20 digits (ID-ICCID).
    return rules.iccid_with_check_digit("8933019" + f"{secrets.randbelow(10**12):012d}")


def esim_allocate(*, partner: Partner, count: int, client: ClientAccount | None = None) -> list[EsimProfile]:
    """Create ``count`` eSIM profiles for new lines (R-OPT-2: Orange only, allocated at once when ordered).

    Each profile gets a unique ICCID and matching id and the SM-DP+ address of ``settings.ESIM_SMDP_ADDRESS``;
    its ``activation_code`` is ``LPA:1$<SM-DP+>$<matching id>$$1`` (R-ORD-4). The rows are written in the
    caller's transaction (one INSERT inside a savepoint, retried on the astronomically rare collision).
    Requires an outer ``transaction.atomic()``."""
    _require_atomic()
    _check_client(partner, client)
    if count <= 0:
        return []
    for _attempt in range(3):
        iccids: set[str] = set()
        matching_ids: set[str] = set()
        while len(iccids) < count:
            iccids.add(_new_esim_iccid())
        while len(matching_ids) < count:
            matching_ids.add(rules.new_matching_id())
        profiles = [
            EsimProfile(
                partner=partner,
                network=Network.ORANGE,
                iccid=iccid,
                matching_id=matching_id,
                smdp_address=settings.ESIM_SMDP_ADDRESS,
                client=client,
                state=EsimProfile.State.ALLOCATED,
            )
            for iccid, matching_id in zip(sorted(iccids), sorted(matching_ids), strict=True)
        ]
        try:
            with transaction.atomic():
                return EsimProfile.objects.bulk_create(profiles)
        except IntegrityError:
            continue
    raise RuleViolation(_("Impossible de générer des profils eSIM uniques, réessayez."), field="sim_type")


def sim_mark_in_use(
    *, partner: Partner, iccids: Sequence[str], client: ClientAccount | None
) -> list[SimCard]:
    """Put the given physical SIMs in use (e.g. a SIM swap to a SIM the user picked, R-ORD-5, R-SC-6).

    Each SIM must be the partner's and either in stock or assigned to ``client``; otherwise ``RuleViolation``
    (field ``iccid``) naming them and nothing changes — a SIM already in use is refused, so two lines never
    share a SIM. Returns the SIMs in the order given (a repeated ICCID is refused). Requires an outer ``transaction.atomic()``."""
    _require_atomic()
    _check_client(partner, client)
    wanted = _normalize_iccids(iccids, field="iccid", unique=True)
    rows = {
        s.iccid: s
        for s in SimCard.objects.filter(partner=partner, iccid__in=wanted)
        .order_by("iccid")
        .select_for_update()
    }
    unusable = [
        iccid
        for iccid in wanted
        if iccid not in rows
        or not (
            rows[iccid].state == SimCard.State.IN_STOCK
            or (
                rows[iccid].state == SimCard.State.ASSIGNED
                and rows[iccid].client_id == getattr(client, "pk", None)
            )
        )
    ]
    if unusable:
        raise RuleViolation(
            _("Carte(s) SIM non disponible(s) pour ce client : %(iccids)s.") % {"iccids": _join(unusable)},
            field="iccid",
            rule="R-ORD-5",
        )
    now = timezone.now()
    SimCard.objects.filter(pk__in=[s.pk for s in rows.values()]).update(
        state=SimCard.State.IN_USE, client=client, updated_at=now
    )
    for sim in rows.values():
        sim.state, sim.client, sim.updated_at = SimCard.State.IN_USE, client, now
    return [rows[i] for i in wanted]


def number_mark_in_use(
    *, partner: Partner, msisdns: Sequence[str], client: ClientAccount | None = None
) -> int:
    """Reserved numbers become ``in_use`` (the line is live). Idempotent for numbers already in use.

    A number that is not reserved/in use in the partner's pool → ``RuleViolation`` (field ``number``), nothing
    changes. Returns the number of rows now in use. Requires an outer ``transaction.atomic()``."""
    _require_atomic()
    _check_client(partner, client)
    wanted = [rules.normalize_msisdn(m) for m in msisdns]
    usable = PhoneNumber.objects.filter(
        partner=partner, msisdn__in=wanted, state__in=[PhoneNumber.State.RESERVED, PhoneNumber.State.IN_USE]
    )
    changes = {"state": PhoneNumber.State.IN_USE, "updated_at": timezone.now()}
    if client is not None:
        changes["client"] = client
    updated = usable.update(**changes)
    if updated != len(set(wanted)):
        found = set(usable.values_list("msisdn", flat=True))
        raise RuleViolation(
            _("Numéro(s) non réservé(s) dans votre réserve : %(numbers)s.")
            % {"numbers": _join([m for m in wanted if m not in found])},
            field="number",
        )
    return updated


def esim_mark_in_use(*, partner: Partner, iccids: Sequence[str]) -> int:
    """Allocated eSIM profiles become ``in_use`` (installed / line live). Idempotent.

    Requires an outer ``transaction.atomic()``."""
    _require_atomic()
    wanted = _normalize_iccids(iccids, field="iccid")
    updated = EsimProfile.objects.filter(
        partner=partner, iccid__in=wanted, state__in=[EsimProfile.State.ALLOCATED, EsimProfile.State.IN_USE]
    ).update(state=EsimProfile.State.IN_USE, updated_at=timezone.now())
    if updated != len(wanted):
        raise RuleViolation(_("Profil(s) eSIM introuvable(s) ou retiré(s)."), field="iccid", rule="R-OPT-2")
    return updated


def sim_allocation_cancel(*, partner: Partner, iccids: Sequence[str], to_partner_stock: bool = False) -> int:
    """Undo ``sim_allocate`` / ``sim_mark_in_use`` for lines that never went live (order cancelled, creation or
    SIM swap refused).

    The SIM goes back to its client's assigned stock when it has a client, else to the partner's stock;
    ``to_partner_stock`` sends it back to the partner's stock whatever its client (a SIM that was taken from
    the partner's stock for a swap). Never use it for a terminated line: ``sim_retire`` (R-CON-6). Requires an
    outer ``transaction.atomic()``."""
    _require_atomic()
    wanted = _normalize_iccids(iccids, field="iccid")
    in_use = SimCard.objects.filter(partner=partner, iccid__in=wanted, state=SimCard.State.IN_USE)
    now = timezone.now()
    if to_partner_stock:
        return in_use.update(state=SimCard.State.IN_STOCK, client=None, updated_at=now)
    return in_use.update(
        state=Case(
            When(client__isnull=True, then=Value(SimCard.State.IN_STOCK)),
            default=Value(SimCard.State.ASSIGNED),
        ),
        updated_at=now,
    )


def number_release(*, partner: Partner, msisdns: Sequence[str]) -> int:
    """Give reserved numbers back to the pool (order cancelled or refused before the line went live).

    A number in use or retired cannot be released: a terminated line's number is retired forever (R-CON-6).
    Returns how many numbers were released. Requires an outer ``transaction.atomic()``."""
    _require_atomic()
    wanted = [rules.normalize_msisdn(m) for m in msisdns]
    blocked = list(
        PhoneNumber.objects.filter(
            partner=partner,
            msisdn__in=wanted,
            state__in=[PhoneNumber.State.IN_USE, PhoneNumber.State.RETIRED],
        ).values_list("msisdn", flat=True)
    )
    if blocked:
        raise RuleViolation(
            _(
                "Un numéro en service ou résilié ne revient jamais dans la réserve : %(numbers)s "
                "(à la résiliation il est retiré définitivement)."
            )
            % {"numbers": _join(blocked)},
            field="number",
            rule="R-CON-6",
        )
    return PhoneNumber.objects.filter(
        partner=partner, msisdn__in=wanted, state=PhoneNumber.State.RESERVED
    ).update(state=PhoneNumber.State.AVAILABLE, client=None, updated_at=timezone.now())


def _retire(
    *,
    model,
    kind: str,
    target: str,
    key: str,
    partner: Partner,
    values: list[str],
    reason: str,
) -> int:
    rows = list(
        model.objects.filter(partner=partner, **{f"{key}__in": values})
        .exclude(state="retired")
        .order_by(key)
        .select_for_update()
    )
    if not rows:
        return 0
    model.objects.filter(pk__in=[r.pk for r in rows]).update(state="retired", updated_at=timezone.now())
    RetiredIdentifier.objects.bulk_create(
        [
            RetiredIdentifier(partner=partner, kind=kind, value=getattr(r, key), reason=reason, **{target: r})
            for r in rows
        ]
    )
    return len(rows)


def sim_retire(*, partner: Partner, iccids: Sequence[str], reason: str = "") -> int:
    """R-CON-6: retire SIMs forever (terminated line, SIM swapped out, lost card). Idempotent.

    Writes the ``RetiredIdentifier`` register; from then on the database refuses to re-insert the ICCID, to
    delete the SIM or to move it out of ``retired``. Returns how many SIMs were newly retired. Three queries.
    Requires an outer ``transaction.atomic()``."""
    _require_atomic()
    return _retire(
        model=SimCard,
        kind=RetiredIdentifier.Kind.ICCID,
        target="sim",
        key="iccid",
        partner=partner,
        values=_normalize_iccids(iccids, field="iccid"),
        reason=reason,
    )


def number_retire(*, partner: Partner, msisdns: Sequence[str], reason: str = "") -> int:
    """R-CON-6: retire numbers forever (terminated line). Idempotent; same database guarantee as ``sim_retire``.

    Requires an outer ``transaction.atomic()``."""
    _require_atomic()
    return _retire(
        model=PhoneNumber,
        kind=RetiredIdentifier.Kind.MSISDN,
        target="number",
        key="msisdn",
        partner=partner,
        values=[rules.normalize_msisdn(m) for m in msisdns],
        reason=reason,
    )


def esim_retire(*, partner: Partner, iccids: Sequence[str], reason: str = "") -> int:
    """Retire eSIM profiles (terminated line, swapped out, order cancelled: an eSIM is never handed out twice,
    R-OPT-2, R-CON-6). Idempotent. Requires an outer ``transaction.atomic()``."""
    _require_atomic()
    return _retire(
        model=EsimProfile,
        kind=RetiredIdentifier.Kind.ESIM,
        target="esim",
        key="iccid",
        partner=partner,
        values=_normalize_iccids(iccids, field="iccid"),
        reason=reason,
    )


@transaction.atomic
def number_record_external(
    *,
    partner: Partner,
    network: str,
    msisdn: str,
    client: ClientAccount | None = None,
    kind: str = PhoneNumber.Kind.M2M_DATA,
) -> PhoneNumber:
    """Record a number that does not come from the pool, directly ``in_use``: the 14-digit ``0700…`` number
    Orange supplies after the order of a Data only / M2M line (R-CAT-5, R-CAT-6), or a ported-in number.

    A number that was ever terminated (or is already known) is refused (R-CON-6) — by the unique constraint
    when a concurrent write slips between the check and the insert."""
    _check_client(partner, client)
    msisdn = rules.normalize_msisdn(msisdn)
    reason = importing.number_row_error(msisdn, network, kind)
    if reason:
        raise RuleViolation(reason, field="number")
    if PhoneNumber.objects.filter(msisdn=msisdn).exists():
        raise RuleViolation(
            _("Le numéro %(msisdn)s est déjà connu (un numéro résilié n'est jamais réutilisé).")
            % {"msisdn": msisdn},
            field="number",
            rule="R-CON-6",
        )
    try:
        with transaction.atomic():
            return PhoneNumber.objects.create(
                partner=partner,
                network=network,
                kind=kind,
                msisdn=msisdn,
                client=client,
                state=PhoneNumber.State.IN_USE,
            )
    except IntegrityError:
        raise RuleViolation(
            _("Le numéro %(msisdn)s est déjà connu.") % {"msisdn": msisdn}, field="number", rule="R-CON-6"
        ) from None


# --- assignment to clients (R-SC-7, R-BO-2) ---------------------------------------------------------------


@transaction.atomic
def sim_assign(*, partner: Partner, client: ClientAccount, iccids: Sequence[str]) -> int:
    """Assign the given in-stock SIMs to ``client`` (one or several, R-SC-7, R-BO-2). All or nothing: if any
    SIM is not in the partner's stock, ``RuleViolation`` names them and nothing is assigned."""
    _check_client(partner, client)
    wanted = _normalize_iccids(iccids)
    locked = _lock_sims(partner, wanted, state=SimCard.State.IN_STOCK)
    refused = [i for i in wanted if i not in locked]
    if refused:
        raise RuleViolation(
            _("Carte(s) SIM absente(s) de votre stock disponible : %(iccids)s. Aucune SIM n'a été affectée.")
            % {"iccids": _join(refused)},
            field="iccids",
            rule="R-SC-7",
        )
    return SimCard.objects.filter(pk__in=locked.values()).update(
        state=SimCard.State.ASSIGNED, client=client, updated_at=timezone.now()
    )


def _lock_sims(partner: Partner, iccids: list[str], **filters) -> dict[str, int]:
    """Lock the partner's SIMs among ``iccids`` matching ``filters``; {iccid: pk} (locks in ICCID order)."""
    return dict(
        SimCard.objects.filter(partner=partner, iccid__in=iccids, **filters)
        .order_by("iccid")
        .select_for_update()
        .values_list("iccid", "pk")
    )


@transaction.atomic
def sim_assign_range(
    *, partner: Partner, client: ClientAccount, first_iccid: str, last_iccid: str
) -> RangeResult:
    """R-SC-7: assign every in-stock SIM of the partner whose ICCID lies between ``first_iccid`` and
    ``last_iccid`` (inclusive, ascending, same length). Other partners' SIMs and the partner's SIMs that are
    not in stock are left alone (``skipped`` counts the latter). No SIM in stock in the range → refused."""
    _check_client(partner, client)
    first, last = _range_bounds(first_iccid, last_iccid)
    in_range = _sims_in_range(partner, first, last)
    count = in_range.filter(state=SimCard.State.IN_STOCK).update(
        state=SimCard.State.ASSIGNED, client=client, updated_at=timezone.now()
    )
    if count == 0:
        raise RuleViolation(
            _("Aucune carte SIM en stock entre %(first)s et %(last)s.") % {"first": first, "last": last},
            field="first_iccid",
            rule="R-SC-7",
        )
    skipped = in_range.exclude(state=SimCard.State.ASSIGNED, client=client).count()
    return RangeResult(count=count, skipped=skipped)


@transaction.atomic
def sim_release(*, partner: Partner, iccids: Sequence[str], client: ClientAccount | None = None) -> int:
    """R-SC-7: take assigned SIMs back from their client into the partner's stock. All or nothing: a SIM that
    is not assigned (in stock, in use, retired, another partner's) is refused and nothing is released.
    With ``client``, only that client's SIMs may be released."""
    _check_client(partner, client)
    wanted = _normalize_iccids(iccids)
    filters = {"state": SimCard.State.ASSIGNED}
    if client is not None:
        filters["client"] = client
    locked = _lock_sims(partner, wanted, **filters)
    refused = [i for i in wanted if i not in locked]
    if refused:
        raise RuleViolation(
            _(
                "Carte(s) SIM non affectée(s) à ce client (en stock, en service ou retirée) : %(iccids)s. "
                "Aucune SIM n'a été libérée."
            )
            % {"iccids": _join(refused)},
            field="iccids",
            rule="R-SC-7",
        )
    return SimCard.objects.filter(pk__in=locked.values()).update(
        state=SimCard.State.IN_STOCK, client=None, updated_at=timezone.now()
    )


@transaction.atomic
def sim_release_range(
    *, partner: Partner, first_iccid: str, last_iccid: str, client: ClientAccount | None = None
) -> RangeResult:
    """R-SC-7: release every assigned SIM of the partner (of ``client`` if given) in the ICCID range."""
    _check_client(partner, client)
    first, last = _range_bounds(first_iccid, last_iccid)
    in_range = _sims_in_range(partner, first, last)
    target = in_range.filter(state=SimCard.State.ASSIGNED)
    if client is not None:
        target = target.filter(client=client)
    count = target.update(state=SimCard.State.IN_STOCK, client=None, updated_at=timezone.now())
    if count == 0:
        raise RuleViolation(
            _("Aucune carte SIM affectée entre %(first)s et %(last)s.") % {"first": first, "last": last},
            field="first_iccid",
            rule="R-SC-7",
        )
    skipped = in_range.exclude(state=SimCard.State.IN_STOCK).count()
    return RangeResult(count=count, skipped=skipped)


# --- imports --------------------------------------------------------------------------------------------


def _report(progress: Progress | None, phase: str, done: int, total: int) -> None:
    if progress is not None:
        progress(phase, done, total)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


MAX_IMPORT_ERRORS = 50  # reported errors of an import file; the others are only counted


class _ErrorLog:
    """The errors of an import file, kept up to ``MAX_IMPORT_ERRORS`` (fed in line order); the rest counted."""

    def __init__(self):
        self.shown: list[importing.RowError] = []
        self.total = 0
        self.lines = 0
        self._last_line = None

    def add(self, errors: list[importing.RowError]) -> None:
        for error in sorted(errors, key=lambda e: e.line):
            self.total += 1
            if error.line != self._last_line:
                self.lines += 1
                self._last_line = error.line
            if len(self.shown) < MAX_IMPORT_ERRORS:
                self.shown.append(error)

    def raise_if_any(self, headline: str) -> None:
        if self.total:
            raise ValidationFailed(
                self.shown, headline % {"n": self.lines}, more=self.total - len(self.shown)
            )


def _import_file(
    *,
    data,
    columns: tuple[str, ...],
    parse,
    field: str,
    duplicate,
    known_errors,
    empty: str,
    headline: str,
    build,
    model,
    progress: Progress | None,
) -> int:
    """Import a stock file row by row with bounded memory, all or nothing.

    First pass: parse each line (``parse(line, raw) -> (row, errors)``), refuse a value of ``field`` seen twice
    in the file (``duplicate(value, first_line)`` names it) and, every ``IMPORT_CHECK_BATCH`` good rows, the
    values already known in the database (``known_errors(rows)``). Only the values seen and the first
    ``MAX_IMPORT_ERRORS`` errors are kept. Any error → ``ValidationFailed``, nothing written. Second pass, in
    one transaction: read the file again and insert it by batches (``build(rows)`` gives the model objects)."""
    source = importing.Source(data)
    log = _ErrorLog()
    first_line: dict[str, int] = {}
    good = 0
    with source.open() as lines:
        rows_iter, header_errors = importing.read_table(lines, columns)
        log.add(header_errors)
        pending: list = []
        pending_errors: list = []

        def check_pending() -> None:
            pending_errors.extend(known_errors(pending))
            log.add(pending_errors)
            pending.clear()
            pending_errors.clear()

        for line, raw in rows_iter:
            if line % IMPORT_BATCH == 0:
                _report(progress, "check", min(line, source.lines), source.lines)
            if raw is None:
                pending_errors.append(importing.unreadable_line(line))
                continue
            row, row_errors = parse(line, raw)
            pending_errors.extend(row_errors)
            if row is None:
                continue
            value = getattr(row, field)
            if value in first_line:
                pending_errors.append(
                    importing.RowError(line, duplicate(value, first_line[value]), field=field)
                )
                continue
            first_line[value] = line
            pending.append(row)
            good += 1
            if len(pending) >= IMPORT_CHECK_BATCH:
                check_pending()
        check_pending()
        _report(progress, "check", source.lines, source.lines)
    if not good and not log.total:
        log.add([importing.RowError(2, empty, field=field)])
    log.raise_if_any(headline)
    del first_line
    try:
        with transaction.atomic(), source.open() as lines:
            rows_iter, _errors = importing.read_table(lines, columns)
            done = 0
            batch: list = []
            for line, raw in rows_iter:
                row, _errors = parse(line, raw)
                batch.append(row)
                if len(batch) >= IMPORT_BATCH:
                    model.objects.bulk_create(build(batch))
                    done += len(batch)
                    batch.clear()
                    _report(progress, "write", done, good)
            if batch:
                model.objects.bulk_create(build(batch))
                done += len(batch)
                _report(progress, "write", done, good)
    except IntegrityError:
        raise RuleViolation(
            _(
                "Un identifiant du fichier vient d'être enregistré par ailleurs : rien n'a été importé, relancez l'import."
            )
        ) from None
    return done


def _sim_known_errors(rows: list[importing.SimRow]) -> list[importing.RowError]:
    errors = []
    known = dict(SimCard.objects.filter(iccid__in=[r.iccid for r in rows]).values_list("iccid", "state"))
    for row in rows:
        if row.iccid not in known:
            continue
        if known[row.iccid] == SimCard.State.RETIRED:
            reason = _("l'ICCID %(iccid)s est celui d'une SIM résiliée : jamais réutilisée.")
            errors.append(
                importing.RowError(row.line, reason % {"iccid": row.iccid}, field="iccid", rule="R-CON-6")
            )
        else:
            reason = _("l'ICCID %(iccid)s est déjà enregistré.")
            errors.append(importing.RowError(row.line, reason % {"iccid": row.iccid}, field="iccid"))
    return errors


def sim_import_csv(
    *, partner: Partner, data: bytes | str | BinaryIO, progress: Progress | None = None
) -> int:
    """Import a SIM stock file (format in ``inventory.importing``) into the partner's stock (``in_stock``).

    All or nothing: bad lines are reported with their line number and French reason (``ValidationFailed``
    whose ``errors`` are the first ``MAX_IMPORT_ERRORS`` ``RowError``, ``more`` counting the others), and
    nothing is imported if any line is bad — bad format, Luhn key, duplicate in the file, ICCID already known,
    or ICCID of a retired SIM (R-CON-6). ``data`` may be a binary file: it is read as a stream, never whole.
    Returns the count imported. ``progress(phase, done, total)`` is called while checking (``check``) and
    writing (``write``)."""
    return _import_file(
        data=data,
        columns=importing.SIM_COLUMNS,
        parse=importing.parse_sim_row,
        field="iccid",
        duplicate=lambda value, first: (
            _("ICCID %(iccid)s en double (déjà à la ligne %(first)d).") % {"iccid": value, "first": first}
        ),
        known_errors=_sim_known_errors,
        empty=_("le fichier ne contient aucune carte SIM."),
        headline=_("%(n)d ligne(s) en erreur : aucune carte SIM importée."),
        build=lambda rows: [
            SimCard(
                partner=partner,
                iccid=r.iccid,
                pin=r.pin,
                puk=r.puk,
                network=r.network,
                state=SimCard.State.IN_STOCK,
            )
            for r in rows
        ],
        model=SimCard,
        progress=progress,
    )


def _bulk_insert(objects: list, model, progress: Progress | None) -> int:
    total = len(objects)
    try:
        with transaction.atomic():
            done = 0
            for chunk in _chunks(objects, IMPORT_BATCH):
                model.objects.bulk_create(chunk)
                done += len(chunk)
                _report(progress, "write", done, total)
    except IntegrityError:
        raise RuleViolation(
            _(
                "Un identifiant du fichier vient d'être enregistré par ailleurs : rien n'a été importé, relancez l'import."
            )
        ) from None
    return total


def _number_duplicate_errors(rows: list[importing.NumberRow]) -> list[importing.RowError]:
    errors = []
    for chunk in _chunks(rows, 5000):
        known = dict(
            PhoneNumber.objects.filter(msisdn__in=[r.msisdn for r in chunk]).values_list("msisdn", "state")
        )
        for row in chunk:
            if row.msisdn not in known:
                continue
            if known[row.msisdn] == PhoneNumber.State.RETIRED:
                reason = _("le numéro %(msisdn)s a été résilié : jamais réutilisé.")
                errors.append(
                    importing.RowError(
                        row.line, reason % {"msisdn": row.msisdn}, field="msisdn", rule="R-CON-6"
                    )
                )
            else:
                reason = _("le numéro %(msisdn)s est déjà enregistré.")
                errors.append(importing.RowError(row.line, reason % {"msisdn": row.msisdn}, field="msisdn"))
    return errors


def _number_objects(partner: Partner, rows: list[importing.NumberRow]) -> list[PhoneNumber]:
    return [
        PhoneNumber(
            partner=partner,
            msisdn=r.msisdn,
            network=r.network,
            kind=r.kind,
            state=PhoneNumber.State.AVAILABLE,
        )
        for r in rows
    ]


def number_import_csv(
    *, partner: Partner, data: bytes | str | BinaryIO, progress: Progress | None = None
) -> int:
    """Add numbers to the partner's pool from a file (format in ``inventory.importing``), all or nothing, read
    as a stream, with the same bounded line-numbered French report as ``sim_import_csv``."""
    return _import_file(
        data=data,
        columns=importing.NUMBER_COLUMNS,
        parse=importing.parse_number_row,
        field="msisdn",
        duplicate=lambda value, first: (
            _("numéro %(msisdn)s en double (déjà à la ligne %(first)d).") % {"msisdn": value, "first": first}
        ),
        known_errors=_number_duplicate_errors,
        empty=_("le fichier ne contient aucun numéro."),
        headline=_("%(n)d ligne(s) en erreur : aucun numéro importé."),
        build=lambda rows: _number_objects(partner, rows),
        model=PhoneNumber,
        progress=progress,
    )


def number_import_range(*, partner: Partner, network: str, first: str, last: str) -> int:
    """Add every number from ``first`` to ``last`` (inclusive, ascending, same kind) to the partner's pool.

    All or nothing; at most 10,000 numbers per range. Numbers outside the allocated mobile ranges (e.g. 071,
    072) or already known (or retired, R-CON-6) are refused, each named in the report."""
    first_n, last_n = rules.normalize_msisdn(first), rules.normalize_msisdn(last)
    kind = importing.infer_kind(first_n)
    for field, value in (("first", first_n), ("last", last_n)):
        reason = importing.number_row_error(value, network, kind)
        if reason:
            raise RuleViolation(reason, field=field)
    if len(first_n) != len(last_n) or first_n > last_n:
        raise RuleViolation(_("La plage de numéros doit être croissante."), field="last")
    size = int(last_n) - int(first_n) + 1
    if size > NUMBER_RANGE_MAX:
        raise RuleViolation(
            _("Une plage compte au plus %(max)d numéros (%(size)d demandés).")
            % {"max": NUMBER_RANGE_MAX, "size": size},
            field="last",
        )
    width = len(first_n)
    rows, errors = [], []
    for value in range(int(first_n), int(last_n) + 1):
        msisdn = f"{value:0{width}d}"
        reason = importing.number_row_error(msisdn, network, kind)
        if reason:
            errors.append(RuleViolation(f"{msisdn} : {reason}", field="first"))
        else:
            rows.append(importing.NumberRow(line=0, msisdn=msisdn, network=network, kind=kind))
    errors += [RuleViolation(e.reason, field="first", rule=e.rule) for e in _number_duplicate_errors(rows)]
    if errors:
        raise ValidationFailed(
            errors, _("%(n)d numéro(s) refusé(s) : aucun numéro ajouté.") % {"n": len(errors)}
        )
    return _bulk_insert(_number_objects(partner, rows), PhoneNumber, None)
