"""Reads of « Mon parc » (R-SC-4), always scoped to the client account who looks (STYLE 2, 15, 16).

Performance (issue 8, « Performance »): the fleet of one client may hold 100,000 lines. The page's figures come
from SQL only —

* the counts Actifs / Suspendus / En cours / Résiliés: one grouped ``COUNT(*)``, an index-only scan of
  ``contract_partner_client_idx`` (``fleet_counts``); without filters (or with the state filter only) they are
  also the paginator's count, so no second ``COUNT`` over the fleet;
* a page's ids are chosen on plain columns (``ORDER BY … LIMIT … OFFSET`` with a unique tiebreaker: line
  number, then id); the default order is an index-only scan of ``contract_client_msisdn_idx`` (partner, client,
  msisdn, id), and a page past the middle is read backwards from the end, so the last page is as cheap as the
  first;
* the data used this month (zones "" and « europe » of the ``data`` metric, R-SC-5), the confirmed top-ups of
  the month and out of plan are correlated subqueries on the unique key ``usage_counter_unique (contract, month,
  metric, zone)`` and on ``contract_topup_month_idx`` for the rows of the page only;
* sorting on data % or out of plan — and the CSV export — compute them in one pass over the filtered lines
  (``_figures_sql``: the month's counters joined on their unique key, the top-ups summed once), never one
  subquery per line; the export streams that query from a server-side cursor and reads the lines by batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, fields
from itertools import islice

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, RowNumber

from catalog.models import Offer
from contracts.models import Contract, ContractTopup, SimType
from contracts.rules import msisdn_from_any
from contracts.selectors import client_contracts
from core.clock import month_start
from inventory.models import EsimProfile, SimCard
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
    """``data_percent`` (data used / (envelope + top-ups) × 100, NULL with no envelope) and ``out_of_plan`` (a
    counter of the month with a part out of plan) on each line, in SQL: three look-ups per line on unique or
    partial indexes — for a page or a batch of lines, never for a whole fleet."""
    used = Coalesce(_data_used(client, month), Value(0), output_field=BigIntegerField())
    topup = Coalesce(_topup(client, month), Value(0), output_field=BigIntegerField())
    return qs.annotate(
        out_of_plan=_out_of_plan(client, month),
        data_percent=Case(
            When(offer__data_bytes__isnull=True, then=Value(None)),
            default=Cast(used, FloatField())
            * Value(100.0)
            / Cast(F("offer__data_bytes") + topup, FloatField()),
            output_field=FloatField(),
        ),
    )


def _digits_after(prefix: str) -> str:
    """The smallest digit string greater than every digit string starting with ``prefix`` ("" if none):
    ``"0619"`` → ``"062"``."""
    stripped = prefix.rstrip("9")
    return stripped[:-1] + str(int(stripped[-1]) + 1) if stripped else ""


def _lines_by_iccid(client: ClientAccount, iccid: str) -> QuerySet:
    """The partner's lines whose SIM or eSIM ICCID starts with ``iccid``: the few cards are found on the ICCID
    pattern index, then their lines on the one-line-per-SIM indexes (one branch per kind, ``UNION ALL``) —
    rather than joining both card tables to every line of the fleet."""
    pid = client.partner_id
    sims = SimCard.objects.filter(partner_id=pid, iccid__startswith=iccid).order_by().values("pk")
    esims = EsimProfile.objects.filter(partner_id=pid, iccid__startswith=iccid).order_by().values("pk")
    by_sim = Contract.objects.filter(partner_id=pid, sim__in=sims).order_by().values("pk")
    by_esim = Contract.objects.filter(partner_id=pid, esim__in=esims).order_by().values("pk")
    return by_sim.union(by_esim, all=True)


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
        if digits:
            # the prefix as a range too, so that the (partner, client, msisdn, id) index serves it (``LIKE`` alone
            # cannot use it under a non-C collation); the ``LIKE`` keeps the exact meaning
            qs = qs.filter(msisdn__startswith=national, msisdn__gte=national)
            if upper := _digits_after(national):
                qs = qs.filter(msisdn__lt=upper)
        else:
            qs = qs.filter(number__icontains=filters.ligne)
    if filters.site.isascii() and filters.site.isdigit():  # "²".isdigit() too
        qs = qs.filter(site_id=int(filters.site))
    if filters.utilisateur:
        qs = qs.filter(user_name__icontains=filters.utilisateur)
    if filters.offre.isascii() and filters.offre.isdigit():
        qs = qs.filter(offer_id=int(filters.offre))
    if filters.sim:
        if filters.sim.lower() == "esim":
            qs = qs.filter(sim_type=SimType.ESIM)
        else:
            qs = qs.filter(pk__in=_lines_by_iccid(client, normalize_iccid(filters.sim)))
    if filters.hors_forfait == "oui":
        qs = qs.filter(_out_of_plan(client, month))
    elif filters.hors_forfait == "non":
        qs = qs.exclude(_out_of_plan(client, month))
    return qs


#: The columns of a line in the CSV export (``fleet_export``), with ``data_percent`` and ``out_of_plan``.
EXPORT_FIELDS = (
    "pk",
    "msisdn",
    "number",
    "state",
    "delivered_at",
    "site__name",
    "user_name",
    "offer__label",
    "sim_type",
    "esim_id",
    "sim__iccid",
)


def fleet_export(
    client: ClientAccount,
    *,
    filters: FleetFilters | None = None,
    sort: str = DEFAULT_SORT,
    month: dt.date | None = None,
    batch: int = 2000,
) -> Iterator[dict]:
    """The client's lines with this month's data % and out of plan, filtered and sorted (R-SC-4), as dicts of
    ``EXPORT_FIELDS`` + ``data_percent`` and ``out_of_plan`` — the whole fleet for the CSV export, in bounded
    memory. One query, read from a server-side cursor, orders the lines and computes their figures in one pass
    (hash joins to the month's counters and top-ups, no subquery per line); each batch of ``batch`` lines then
    gets its plain columns in one query by primary key."""
    month = month_start(month)
    filtered = fleet_filtered(client, filters=filters, month=month)
    if sort.removeprefix("-") in USAGE_SORTS:
        inner = filtered.order_by().values("id", "msisdn", "offer_id")
        order = _usage_order(sort)
    else:
        ordering = fleet_ordering(sort)
        rank = Window(RowNumber(), order_by=ordering)
        inner = filtered.annotate(rank=rank).order_by().values("id", "msisdn", "offer_id", "rank")
        order = "f.rank"
    sql, params = _figures_sql(inner, client, month, order=order)
    figures = _stream(sql, params, batch)
    lines = client_contracts(client).select_related(None).order_by()
    while chunk := list(islice(figures, batch)):
        by_id = {row["pk"]: row for row in lines.filter(pk__in=[f[0] for f in chunk]).values(*EXPORT_FIELDS)}
        for pk, percent, out_of_plan in chunk:
            if row := by_id.get(pk):
                yield {**row, "data_percent": percent, "out_of_plan": out_of_plan}


def _stream(sql: str, params: list, batch: int) -> Iterator[tuple]:
    with connection.chunked_cursor() as cursor:  # a server-side cursor: ``batch`` rows in memory at a time
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(batch):
            yield from rows


class FleetRows:
    """The filtered fleet as the paginator sees it: ``count()`` once, and a slice fetches one page in **one**
    query — the page's ids are chosen in a subquery on plain columns (``ORDER BY … LIMIT … OFFSET``, no usage
    figures computed for the rows skipped), and only those rows get their data % and out-of-plan. Sorting on
    data % or out of plan computes it in one pass (``_figures_sql``: joins, no subquery per line). A page past
    the middle of a known count is read backwards from the end, so the last page costs what the first does."""

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
        limit = stop - offset
        reverse = self._count is not None and offset > self._count // 2
        if reverse:
            # A page past the middle is read from the other end: the same rows, ordered the opposite way,
            # skipping the rows after it (the last page skips nothing). The ordering is total (id last).
            offset, stop = max(0, self._count - stop), self._count - offset
            limit = stop - offset
        key = self.sort.removeprefix("-")
        if key in USAGE_SORTS:
            ids = _usage_sorted_ids(
                self.filtered, self.client, self.month, self.sort, offset, limit, reverse=reverse
            )
        else:
            ordering = fleet_ordering(self.sort, reverse=reverse)
            ids = self.filtered.order_by(*ordering).values("pk")[offset:stop]
        rows = fleet_with_usage(client_contracts(self.client).filter(pk__in=ids), self.client, self.month)
        return list(
            rows.select_related(None)
            .select_related("offer", "sim", "esim", "site")
            .order_by(*fleet_ordering(self.sort))
        )


USAGE_SORTS = {"data", "hors_forfait"}


#: data % of a line (``f``): data used France + Europe (zone "" and « europe » of the month's ``data``
#: counters) / (envelope + the month's confirmed top-ups) × 100; NULL without an envelope.
_PERCENT = (
    "CASE WHEN o.data_bytes IS NULL THEN NULL ELSE (COALESCE(u1.quantity, 0) + COALESCE(u2.quantity, 0))"
    "::float8 * 100 / (o.data_bytes + COALESCE(t.v, 0)) END"
)
_PERCENT_JOINS = (
    "JOIN catalog_offer o ON o.id = f.offer_id "
    "LEFT JOIN usage_counter u1 ON u1.contract_id = f.id AND u1.month = %s AND u1.metric = %s AND u1.zone = '' "
    "LEFT JOIN usage_counter u2 ON u2.contract_id = f.id AND u2.month = %s AND u2.metric = %s "
    "AND u2.zone = 'europe' "
    "LEFT JOIN (SELECT contract_id, SUM(volume_bytes) AS v FROM contracts_contracttopup "
    "WHERE partner_id = %s AND month = %s AND state = %s GROUP BY contract_id) t ON t.contract_id = f.id "
)
#: out of plan: a counter of the month with a part out of plan.
_OUT_OF_PLAN = "(x.contract_id IS NOT NULL)"
_OUT_OF_PLAN_JOIN = (
    "LEFT JOIN (SELECT DISTINCT contract_id FROM usage_counter "
    "WHERE partner_id = %s AND month = %s AND oop_quantity > 0) x ON x.contract_id = f.id "
)


def _figures_sql(
    inner: QuerySet, client, month, *, order: str, percent: bool = True, out_of_plan: bool = True
) -> tuple[str, list]:
    """``SELECT f.id, <data %>, <out of plan> FROM (inner) f … ORDER BY order``: one pass over the lines of
    ``inner`` (values with ``id``, ``msisdn``, ``offer_id``). The month's data counters are joined on their
    unique key (contract, month, metric, zone) — zone "" and zone « europe », one row each at most, so no
    ``GROUP BY`` over the partner's counters — and the month's confirmed top-ups (a handful) are summed once.
    A figure not asked for is NULL and costs no join."""
    sql, params = inner.query.sql_with_params()
    pid = client.partner_id
    joins, join_params = "", []
    if percent:
        joins += _PERCENT_JOINS
        join_params += [month, Metric.DATA, month, Metric.DATA, pid, month, ContractTopup.State.CONFIRMED]
    if out_of_plan:
        joins += _OUT_OF_PLAN_JOIN
        join_params += [pid, month]
    columns = f"{_PERCENT if percent else 'NULL'}, {_OUT_OF_PLAN if out_of_plan else 'NULL'}"
    # Every fragment is a constant of this module or Django's own compiled SQL; values travel as parameters.
    return f"SELECT f.id, {columns} FROM ({sql}) f {joins}ORDER BY {order}", [*params, *join_params]  # noqa: S608


def _usage_order(sort: str, *, reverse: bool = False) -> str:
    """ORDER BY for data % or out of plan, then line number and id (NULLs last, first when read backwards)."""
    value = _PERCENT if sort.removeprefix("-") == "data" else _OUT_OF_PLAN
    direction = "DESC" if sort.startswith("-") != reverse else "ASC"
    if reverse:
        return f"{value} {direction} NULLS FIRST, f.msisdn DESC NULLS FIRST, f.id DESC"
    return f"{value} {direction} NULLS LAST, f.msisdn ASC NULLS LAST, f.id ASC"


def _usage_sorted_ids(filtered, client, month, sort, offset, limit, *, reverse: bool = False) -> RawSQL:
    """The ids of one page of lines sorted by data % or out of plan (only the join that sort needs)."""
    data = sort.removeprefix("-") == "data"
    sql, params = _figures_sql(
        filtered.order_by().values("id", "msisdn", "offer_id"),
        client,
        month,
        order=_usage_order(sort, reverse=reverse),
        percent=data,
        out_of_plan=not data,
    )
    return RawSQL(f"SELECT id FROM ({sql} LIMIT %s OFFSET %s) page", (*params, limit, offset))  # noqa: S608, S611


def fleet_ordering(sort: str, *, reverse: bool = False) -> list:
    """The ORM ordering of a sort key: the column(s), then the line number and the id (a total order, so that
    a page read backwards — ``reverse`` — holds exactly the same rows)."""
    key = (sort or "").removeprefix("-")
    columns = SORTS.get(key) or SORTS[DEFAULT_SORT]
    descending = (sort.startswith("-") and key in SORTS) != reverse

    def by(column: str, desc: bool):
        # NULLs last in the displayed order, hence first when it is read backwards.
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
        return F(column).desc(**nulls) if desc else F(column).asc(**nulls)

    ordering = [by(c, descending) for c in columns]
    if key == "ligne" or key not in SORTS:
        return [*ordering, "-id" if descending else "id"]
    return [*ordering, by("msisdn", reverse), "-id" if reverse else "id"]  # ties: by line number


def fleet_counts(client: ClientAccount) -> dict[str, int]:
    """R-SC-4 counters (R-CON-8 groups) of the client's lines: one grouped query, ``COUNT(*)`` so that it is an
    index-only scan of ``contract_partner_client_idx`` (partner, client, state) — ``COUNT(id)`` would read
    every row of the table."""
    counts = dict.fromkeys(STATE_GROUPS, 0)
    rows = (
        Contract.objects.filter(partner_id=client.partner_id, client=client)
        .order_by()
        .values("state")
        .annotate(n=Count("*"))
    )
    for row in rows:
        counts[Contract.USER_STATE[row["state"]]] += row["n"]
    return counts


def fleet_sites(client: ClientAccount) -> QuerySet[Site]:
    """The client's sites, for the « Site » filter."""
    return Site.objects.filter(partner_id=client.partner_id, client=client).order_by("name", "id")


def fleet_offers() -> QuerySet[Offer]:
    """The catalog's offers (shared, not tenant data), for the « Offre » filter."""
    return Offer.objects.order_by("label", "id").only("id", "label")
