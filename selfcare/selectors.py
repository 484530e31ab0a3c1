"""Reads of « Mon parc » (R-SC-4), always scoped to the client account who looks (STYLE 2, 15, 16).

Performance (issue 8, « Performance »): the fleet of one client may hold 100,000 lines. The page's figures come
from SQL only —

* the counts Actifs / Suspendus / En cours / Résiliés: one grouped query (``contract_state_counts``);
* the data used this month (zones "" and « europe » of the ``data`` metric, R-SC-5) and the confirmed top-ups of
  the month are correlated subqueries on the unique key ``usage_counter_unique (contract, month, metric, zone)``
  and on ``contract_topup_month_idx``; out of plan is an ``EXISTS`` on the same key. PostgreSQL evaluates these
  select-list subqueries after ``ORDER BY … LIMIT``, so only the visible page pays for them — except when the
  table is sorted or filtered on them;
* the pagination counts once (annotations are stripped from ``COUNT``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from django.db.models import (
    BigIntegerField,
    Case,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce

from catalog.models import Offer
from contracts.models import Contract, ContractTopup, SimType
from contracts.rules import msisdn_from_any
from contracts.selectors import client_contracts, contract_state_counts
from core.clock import month_start
from inventory.rules import normalize_iccid
from partners.models import ClientAccount, Site
from usage.models import Metric, UsageCounter

#: The four groups of R-CON-8, in the order of the counters (value = the group's state).
STATE_GROUPS = (
    Contract.State.ACTIVE,
    Contract.State.SUSPENDED,
    Contract.State.PENDING,
    Contract.State.TERMINATED,
)

#: Sort keys of the table (``?tri=…``, ``-`` for descending) → the ORM ordering.
SORTS: dict[str, tuple[str, ...]] = {
    "ligne": ("msisdn",),
    "etat": ("state",),
    "livraison": ("delivered_at",),
    "site": ("site__name",),
    "utilisateur": ("user_name",),
    "offre": ("offer__label",),
    "sim": ("sim__iccid", "esim__iccid"),
    "data": ("data_percent",),
    "hors_forfait": ("out_of_plan",),
}
DEFAULT_SORT = "ligne"


@dataclass(frozen=True)
class FleetFilters:
    """The filters of the table (one per column) as read from the query string; every value a string."""

    ligne: str = ""
    etat: str = ""
    site: str = ""
    utilisateur: str = ""
    offre: str = ""
    sim: str = ""
    hors_forfait: str = ""  # "oui" / "non"

    @classmethod
    def from_query(cls, query) -> FleetFilters:
        return cls(**{f.name: (query.get(f.name) or "").strip()[:60] for f in fields(cls)})

    def items(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def __bool__(self) -> bool:
        return bool(self.items())


def _data_used(client: ClientAccount, month: dt.date) -> Subquery:
    counters = (
        UsageCounter.objects.filter(
            partner_id=client.partner_id,
            contract_id=OuterRef("pk"),
            month=month,
            metric=Metric.DATA,
            zone__in=("", "europe"),
        )
        .order_by()
        .values("contract_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return Subquery(counters, output_field=BigIntegerField())


def _topup(client: ClientAccount, month: dt.date) -> Subquery:
    topups = (
        ContractTopup.objects.filter(
            partner_id=client.partner_id,
            contract_id=OuterRef("pk"),
            month=month,
            state=ContractTopup.State.CONFIRMED,
        )
        .order_by()
        .values("contract_id")
        .annotate(total=Sum("volume_bytes"))
        .values("total")
    )
    return Subquery(topups, output_field=BigIntegerField())


def _out_of_plan(client: ClientAccount, month: dt.date) -> Exists:
    return Exists(
        UsageCounter.objects.filter(
            partner_id=client.partner_id, contract_id=OuterRef("pk"), month=month, oop_quantity__gt=0
        )
    )


def fleet_with_usage(qs: QuerySet[Contract], client: ClientAccount, month: dt.date) -> QuerySet[Contract]:
    """``data_used``, ``data_topup`` (bytes), ``data_percent`` (used / (envelope + top-ups) × 100, NULL with no
    envelope) and ``out_of_plan`` (a counter of the month with a part out of plan) on each line, in SQL."""
    qs = qs.annotate(
        data_used=Coalesce(_data_used(client, month), Value(0), output_field=BigIntegerField()),
        data_topup=Coalesce(_topup(client, month), Value(0), output_field=BigIntegerField()),
        out_of_plan=_out_of_plan(client, month),
    )
    return qs.annotate(
        data_percent=Case(
            When(offer__data_bytes__isnull=True, then=Value(None)),
            default=Cast(F("data_used"), FloatField())
            * Value(100.0)
            / Cast(F("offer__data_bytes") + F("data_topup"), FloatField()),
            output_field=FloatField(),
        )
    )


def fleet_filtered(
    client: ClientAccount, *, filters: FleetFilters | None = None, month=None
) -> QuerySet[Contract]:
    """The client's lines matching the filters (one per column), unordered and without the usage figures."""
    filters = filters or FleetFilters()
    month = month_start(month)
    qs = client_contracts(client).select_related(None)
    if filters.etat in STATE_GROUPS:
        qs = qs.filter(state__in=[s for s, g in Contract.USER_STATE.items() if g == filters.etat])
    if filters.ligne:
        national = msisdn_from_any(filters.ligne)
        digits = national.isdigit() if national else False
        qs = qs.filter(Q(msisdn__startswith=national) if digits else Q(number__icontains=filters.ligne))
    if filters.site.isdigit():
        qs = qs.filter(site_id=int(filters.site))
    if filters.utilisateur:
        qs = qs.filter(user_name__icontains=filters.utilisateur)
    if filters.offre.isdigit():
        qs = qs.filter(offer_id=int(filters.offre))
    if filters.sim:
        if filters.sim.lower() == "esim":
            qs = qs.filter(sim_type=SimType.ESIM)
        else:
            iccid = normalize_iccid(filters.sim)
            qs = qs.filter(Q(sim__iccid__startswith=iccid) | Q(esim__iccid__startswith=iccid))
    if filters.hors_forfait == "oui":
        qs = qs.filter(_out_of_plan(client, month))
    elif filters.hors_forfait == "non":
        qs = qs.exclude(_out_of_plan(client, month))
    return qs


def fleet_list(
    client: ClientAccount,
    *,
    filters: FleetFilters | None = None,
    sort: str = DEFAULT_SORT,
    month: dt.date | None = None,
) -> QuerySet[Contract]:
    """The client's lines with this month's data % and out-of-plan, filtered and sorted (R-SC-4) — the whole
    fleet in one query (the CSV export streams it)."""
    month = month_start(month)
    qs = fleet_with_usage(fleet_filtered(client, filters=filters, month=month), client, month)
    return qs.select_related("offer", "sim", "esim", "site").order_by(*fleet_ordering(sort))


class FleetRows:
    """The filtered fleet as the paginator sees it: ``count()`` once, and a slice fetches one page in **one**
    query — the page's ids are chosen in a subquery on plain columns (``ORDER BY … LIMIT … OFFSET``, no usage
    figures computed for the rows skipped), and only those rows get their data % and out-of-plan. Sorting on
    data % or out of plan joins the month's counters aggregated once (hash join) instead of one subquery per
    line."""

    def __init__(self, client: ClientAccount, filtered: QuerySet[Contract], sort: str, month: dt.date):
        self.client, self.filtered, self.sort, self.month = client, filtered, sort, month
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self.filtered.count()
        return self._count

    def set_count(self, value: int) -> None:
        """The count is already known (the state counters): no COUNT query."""
        self._count = value

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list[Contract]:
        offset, stop = page.start or 0, page.stop
        key = self.sort.removeprefix("-")
        if key in USAGE_SORTS:
            ids = _usage_sorted_ids(self.filtered, self.client, self.month, self.sort, offset, stop - offset)
        else:
            ids = self.filtered.order_by(*fleet_ordering(self.sort)).values("pk")[offset:stop]
        rows = fleet_with_usage(client_contracts(self.client).filter(pk__in=ids), self.client, self.month)
        return list(
            rows.select_related(None)
            .select_related("offer", "sim", "esim", "site")
            .order_by(*fleet_ordering(self.sort))
        )


USAGE_SORTS = {"data", "hors_forfait"}


def _usage_sorted_ids(filtered, client, month, sort, offset, limit) -> RawSQL:
    inner, params = filtered.order_by().values("id", "msisdn", "offer_id").query.sql_with_params()
    pid = client.partner_id
    if sort.removeprefix("-") == "data":
        value = (
            "CASE WHEN o.data_bytes IS NULL THEN NULL "
            "ELSE COALESCE(u.q, 0)::float8 * 100 / (o.data_bytes + COALESCE(t.v, 0)) END"
        )
        joins = (
            "JOIN catalog_offer o ON o.id = f.offer_id "
            "LEFT JOIN (SELECT contract_id, SUM(quantity) AS q FROM usage_counter "
            "WHERE partner_id = %s AND month = %s AND metric = %s AND zone IN ('', 'europe') "
            "GROUP BY contract_id) u ON u.contract_id = f.id "
            "LEFT JOIN (SELECT contract_id, SUM(volume_bytes) AS v FROM contracts_contracttopup "
            "WHERE partner_id = %s AND month = %s AND state = %s GROUP BY contract_id) t ON t.contract_id = f.id"
        )
        join_params = [pid, month, Metric.DATA, pid, month, ContractTopup.State.CONFIRMED]
    else:
        value = "(x.contract_id IS NOT NULL)"
        joins = (
            "LEFT JOIN (SELECT DISTINCT contract_id FROM usage_counter "
            "WHERE partner_id = %s AND month = %s AND oop_quantity > 0) x ON x.contract_id = f.id"
        )
        join_params = [pid, month]
    direction = "DESC" if sort.startswith("-") else "ASC"
    # Every fragment is a constant of this module or Django's own compiled SQL; values travel as parameters.
    sql = (
        f"SELECT f.id FROM ({inner}) f {joins} "  # noqa: S608
        f"ORDER BY {value} {direction} NULLS LAST, f.msisdn ASC NULLS LAST, f.id ASC LIMIT %s OFFSET %s"
    )
    return RawSQL(sql, (*params, *join_params, limit, offset))  # noqa: S611


def fleet_ordering(sort: str) -> list:
    key = (sort or "").removeprefix("-")
    columns = SORTS.get(key) or SORTS[DEFAULT_SORT]
    descending = sort.startswith("-") and key in SORTS
    ordering = [F(c).desc(nulls_last=True) if descending else F(c).asc(nulls_last=True) for c in columns]
    if key == "ligne":
        return [*ordering, "-id" if descending else "id"]
    return [*ordering, F("msisdn").asc(nulls_last=True), "id"]  # ties: by line number


def fleet_counts(client: ClientAccount) -> dict[str, int]:
    """R-SC-4 counters (R-CON-8 groups) of the client's lines: one grouped query."""
    return contract_state_counts(client.partner_id, client=client)  # type: ignore[arg-type]


def fleet_sites(client: ClientAccount) -> QuerySet[Site]:
    """The client's sites, for the « Site » filter."""
    return Site.objects.filter(partner_id=client.partner_id, client=client).order_by("name", "id")


def fleet_offers() -> QuerySet[Offer]:
    """The catalog's offers (shared, not tenant data), for the « Offre » filter."""
    return Offer.objects.order_by("label", "id").only("id", "label")
