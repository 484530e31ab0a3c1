"""Orders, contracts (= lines), their options, one-off fees, event log and operator requests.

State machines (STYLE 6): ``Contract.State`` + ``Contract.TRANSITIONS`` and ``OperatorRequest.State`` +
``OperatorRequest.TRANSITIONS``. Only services move a state (``contracts.services.contract_transition``,
``operator_request_transition``), locking the row and writing a ``ContractEvent``.

Every tenant-owned row carries a non-null ``partner`` (children too, denormalised, STYLE 13).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from catalog.labels import zone_label
from core.money import format_bytes
from core.networks import Network
from core.operator_kinds import RequestKind
from partners.models import ClientAccount, Partner, Site


def new_request_key() -> str:
    return uuid.uuid4().hex


class SimType(models.TextChoices):
    """R-ORD-2: SIM with PIN, without PIN, or eSIM (+1.50 € FAS, Orange only, R-OPT-2)."""

    WITH_PIN = "pin", _("Avec PIN")
    WITHOUT_PIN = "no_pin", _("Sans PIN")
    ESIM = "esim", _("eSIM")


class NumberSequence(models.Model):
    """Counter rows for human-readable numbers (``CMD-2026-000123``, ``CTR-2026-000123``): one row per
    (prefix, year), incremented under ``select_for_update`` inside the order transaction, so numbers are
    unique and never skipped by a concurrent order (a rolled-back order gives its numbers back)."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="number_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class Order(models.Model):
    """An order of one offer for ``quantity`` lines (R-ORD-1, R-ORD-2). Each line becomes a Contract."""

    class Configuration(models.TextChoices):
        UNIT = "unit", _("Configuration unitaire")
        MULTIPLE = "multiple", _("Configuration multiple")

    class Source(models.TextChoices):
        BACKOFFICE = "backoffice", _("Back-office")
        API = "api", _("API")
        DEMO = "demo", _("Démonstration")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="orders")
    client = models.ForeignKey(ClientAccount, on_delete=models.PROTECT, related_name="orders")
    number = models.CharField(_("n° de commande"), max_length=20, unique=True)
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, related_name="+")
    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    quantity = models.PositiveIntegerField(_("quantité"))
    configuration = models.CharField(
        _("configuration"), max_length=10, choices=Configuration.choices, default=Configuration.UNIT
    )
    sim_type = models.CharField(
        _("type de SIM"), max_length=10, choices=SimType.choices, default=SimType.WITH_PIN
    )
    five_g = models.BooleanField(_("5G"), default=False)
    allow_sva = models.BooleanField(_("autoriser les SVA"), default=True)
    options = models.ManyToManyField(
        "catalog.Option", blank=True, related_name="+", verbose_name=_("options")
    )
    roaming = models.JSONField(
        _("itinérance"),
        default=dict,
        blank=True,
        help_text=_("Par zone : le code du choix (coupure ou option) retenu."),
    )
    activation_date = models.DateField(_("date d'activation souhaitée"))
    source = models.CharField(_("origine"), max_length=12, choices=Source.choices, default=Source.BACKOFFICE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("passée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("commande")
        verbose_name_plural = _("commandes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "-created_at"], name="order_partner_created_idx"),
            models.Index(fields=["partner", "client"], name="order_partner_client_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_positive"),
        ]

    def __str__(self) -> str:
        return self.number


class Contract(models.Model):
    """A line: one mobile subscription with its number and SIM (R-CON-*, R-ORD-6)."""

    class State(models.TextChoices):
        """R-CON-8 labels; ``terminating`` is the "En cours" of a termination, ``failed`` the visible error of a
        provisioning that failed after its last retry (issue 4: "retry" action)."""

        PENDING = "pending", _("En cours")
        ACTIVE = "active", _("Actif")
        SUSPENDED = "suspended", _("Suspendu")
        TERMINATING = "terminating", _("En cours de résiliation")
        TERMINATED = "terminated", _("Résilié")
        FAILED = "failed", _("En erreur")

    TRANSITIONS: dict[str, set[str]] = {
        State.PENDING: {State.ACTIVE, State.FAILED, State.TERMINATED},
        State.FAILED: {State.PENDING, State.TERMINATED},
        State.ACTIVE: {State.SUSPENDED, State.TERMINATING, State.TERMINATED},
        State.SUSPENDED: {State.ACTIVE, State.TERMINATING, State.TERMINATED},
        State.TERMINATING: {State.TERMINATED, State.ACTIVE, State.SUSPENDED},
        State.TERMINATED: set(),
    }
    #: The four states users see (R-CON-8, R-SC-4 counters): internal state → displayed group.
    USER_STATE = {
        State.PENDING: State.PENDING,
        State.FAILED: State.PENDING,
        State.TERMINATING: State.PENDING,
        State.ACTIVE: State.ACTIVE,
        State.SUSPENDED: State.SUSPENDED,
        State.TERMINATED: State.TERMINATED,
    }

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="contracts")
    client = models.ForeignKey(ClientAccount, on_delete=models.PROTECT, related_name="contracts")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(_("n° de contrat"), max_length=20, unique=True)
    offer = models.ForeignKey(
        "catalog.Offer", on_delete=models.PROTECT, related_name="+", verbose_name=_("offre")
    )
    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    state = models.CharField(_("état"), max_length=12, choices=State.choices, default=State.PENDING)
    state_changed_at = models.DateTimeField(_("état modifié le"), auto_now_add=True)
    user_name = models.CharField(_("utilisateur"), max_length=120, blank=True)
    contact_email = models.EmailField(_("e-mail du contact"), blank=True)
    contact_mobile = models.CharField(_("mobile du contact"), max_length=20, blank=True)
    msisdn = models.CharField(
        _("numéro"),
        max_length=14,
        null=True,
        blank=True,
        help_text=_("Vide tant qu'Orange n'a pas attribué le numéro à 14 chiffres (Data only, M2M)."),
    )
    phone_number = models.ForeignKey(
        "inventory.PhoneNumber", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sim_type = models.CharField(_("type de SIM"), max_length=10, choices=SimType.choices)
    sim = models.ForeignKey(
        "inventory.SimCard",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SIM"),
    )
    esim = models.ForeignKey(
        "inventory.EsimProfile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("eSIM"),
    )
    five_g = models.BooleanField(_("5G"), default=False)
    allow_sva = models.BooleanField(_("SVA autorisés"), default=True)
    portability = models.BooleanField(_("portabilité"), default=False)
    ported_number = models.CharField(_("numéro porté"), max_length=10, blank=True)
    rio = models.CharField(_("RIO"), max_length=12, blank=True)
    activation_date = models.DateField(_("date d'activation souhaitée"))
    delivered_at = models.DateTimeField(_("livrée le"), null=True, blank=True)
    terminated_at = models.DateTimeField(_("résiliée le"), null=True, blank=True)
    site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_error = models.TextField(_("dernière erreur opérateur"), blank=True)
    #: R-CAT-7/8: the data threshold of a Compteur / Compteur Data line (1 Go to 100 Go); ``usage`` blocks the
    #: line's data when the month's data reaches it (``DataBlock`` scope ``threshold``). Empty: no threshold.
    data_threshold_bytes = models.BigIntegerField(
        _("seuil data (octets)"),
        null=True,
        blank=True,
        help_text=_("Offres compteur seulement : de 1 Go à 100 Go. Vide : pas de seuil."),
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("contrat")
        verbose_name_plural = _("contrats")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "state"], name="contract_partner_state_idx"),
            models.Index(fields=["partner", "client", "state"], name="contract_partner_client_idx"),
            # Self-care « Mon parc » (R-SC-4): a client's lines in line-number order, id as the tiebreaker — any
            # page of the default sort is an index-only scan.
            models.Index(fields=["partner", "client", "msisdn", "id"], name="contract_client_msisdn_idx"),
            # … and in descending order with the lines without a number last (« -ligne »), both read either way.
            models.Index(
                F("partner"),
                F("client"),
                F("msisdn").desc(nulls_last=True),
                F("id").desc(),
                name="contract_client_msisdn_d_idx",
            ),
            models.Index(fields=["partner", "msisdn"], name="contract_partner_msisdn_idx"),
            models.Index(fields=["partner", "-created_at"], name="contract_partner_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    state__in=["pending", "active", "suspended", "terminating", "terminated", "failed"]
                ),
                name="contract_state_valid",
            ),
            # R-OPT-2: eSIM on Orange only; a line has a physical SIM or an eSIM, not both.
            models.CheckConstraint(
                condition=~Q(sim_type="esim", network="bouygues"), name="contract_esim_orange"
            ),
            models.CheckConstraint(
                condition=Q(sim__isnull=True) | Q(esim__isnull=True), name="contract_one_sim"
            ),
            models.CheckConstraint(
                condition=Q(portability=False) | ~Q(ported_number="") & ~Q(rio=""),
                name="contract_portability_has_number_and_rio",
            ),
            # A SIM, an eSIM or a pool number serves one contract ever (R-CON-6: never reused).
            models.UniqueConstraint(fields=["sim"], condition=Q(sim__isnull=False), name="contract_sim_once"),
            models.UniqueConstraint(
                fields=["esim"], condition=Q(esim__isnull=False), name="contract_esim_once"
            ),
            models.UniqueConstraint(
                fields=["phone_number"], condition=Q(phone_number__isnull=False), name="contract_number_once"
            ),
            # Two live lines never share a number (a ported number may come back after a termination).
            models.UniqueConstraint(
                fields=["msisdn"],
                condition=Q(msisdn__isnull=False) & ~Q(state="terminated"),
                name="contract_msisdn_live_unique",
            ),
            # R-CAT-7/8: thresholds from 1 Go to 100 Go (the range check is the service's, R-CAT-7).
            models.CheckConstraint(
                condition=Q(data_threshold_bytes__isnull=True)
                | Q(data_threshold_bytes__gte=10**9, data_threshold_bytes__lte=100 * 10**9),
                name="contract_data_threshold_1_100_go",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def user_state(self) -> str:
        return self.USER_STATE[self.state]

    @property
    def user_state_label(self) -> str:
        return self.State(self.user_state).label

    @property
    def is_esim(self) -> bool:
        return self.sim_type == SimType.ESIM


class ContractOption(models.Model):
    """An option on a line (R-ORD-6 Options tab): a catalog option, a roaming cut-off/option per zone
    (R-OPT-4/5, R-ROA-3/4), the eSIM, 5G… Label and prices are copied at order time."""

    class Status(models.TextChoices):
        PENDING = "pending", _("En cours")
        ACTIVE = "active", _("Actif")
        TERMINATING = "terminating", _("Résiliation programmée")
        TERMINATED = "terminated", _("Résilié")

    TRANSITIONS: dict[str, set[str]] = {
        Status.PENDING: {Status.ACTIVE, Status.TERMINATED},
        Status.ACTIVE: {Status.TERMINATING, Status.TERMINATED},
        Status.TERMINATING: {Status.TERMINATED, Status.ACTIVE},
        Status.TERMINATED: set(),
    }

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="options")
    option = models.ForeignKey(
        "catalog.Option", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    roaming_choice = models.ForeignKey(
        "catalog.RoamingChoice", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    code = models.CharField(_("code"), max_length=60)
    label = models.CharField(_("option"), max_length=200)
    zone = models.CharField(_("zone"), max_length=20, blank=True)
    price_ht = models.DecimalField(_("prix HT"), max_digits=10, decimal_places=2, default=0)
    monthly_fee_ht = models.DecimalField(
        _("abonnement HT"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Vide : à définir."),
    )
    fas_ht = models.DecimalField(_("FAS HT"), max_digits=10, decimal_places=2, default=0)
    status = models.CharField(_("statut"), max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("date de création"))
    activated_at = models.DateTimeField(_("date d'activation"), null=True, blank=True)
    ended_at = models.DateTimeField(_("date de fin"), null=True, blank=True)

    class Meta:
        verbose_name = _("option du contrat")
        verbose_name_plural = _("options du contrat")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(option__isnull=True) | Q(roaming_choice__isnull=True),
                name="contract_option_one_source",
            ),
        ]
        indexes = [models.Index(fields=["contract", "status"], name="contract_option_status_idx")]

    def __str__(self) -> str:
        return self.label


class OneOffFee(models.Model):
    """A one-off fee (FAS) of a line: eSIM 1.50 € HT (R-OPT-2), options with a set-up fee… (Fees tab)."""

    class Kind(models.TextChoices):
        ESIM = "esim", _("FAS eSIM")
        OPTION = "option", _("FAS option")
        OTHER = "other", _("Autre")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="fees")
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    label = models.CharField(_("libellé"), max_length=200)
    amount_ht = models.DecimalField(_("montant HT"), max_digits=10, decimal_places=2)
    rule = models.CharField(_("règle"), max_length=12, blank=True)
    created_at = models.DateTimeField(_("date"))

    class Meta:
        verbose_name = _("frais ponctuel")
        verbose_name_plural = _("frais ponctuels")
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount_ht__gte=0), name="one_off_fee_positive")]

    def __str__(self) -> str:
        return f"{self.label} {self.amount_ht} €"


class ContractEvent(models.Model):
    """The contract's history (R-ORD-6 "Historique"): what happened, who did it, when."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Création")
        STATE_CHANGED = "state_changed", _("Changement d'état")
        OPERATOR_REQUEST = "operator_request", _("Demande opérateur")
        OPERATOR_RESPONSE = "operator_response", _("Réponse opérateur")
        OPTION = "option", _("Option")
        RESOURCE = "resource", _("Ressource")
        CHANGE = "change", _("Changement d'offre")
        NOTE = "note", _("Note")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    from_state = models.CharField(_("état avant"), max_length=12, blank=True)
    to_state = models.CharField(_("état après"), max_length=12, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("auteur"), max_length=120, blank=True)
    message = models.TextField(_("message"), blank=True)
    data = models.JSONField(_("données"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("date"))

    class Meta:
        verbose_name = _("événement du contrat")
        verbose_name_plural = _("événements du contrat")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["contract", "created_at"], name="contract_event_idx")]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def from_state_label(self) -> str:
        """The French label of ``from_state`` (« En cours »…), for the History tab."""
        return (
            Contract.State(self.from_state).label
            if self.from_state in Contract.State.values
            else self.from_state
        )

    @property
    def to_state_label(self) -> str:
        return (
            Contract.State(self.to_state).label if self.to_state in Contract.State.values else self.to_state
        )

    @property
    def who(self) -> str:
        if self.actor_label:
            return self.actor_label
        return self.actor.get_username() if self.actor_id else str(_("Système"))


class OperatorRequest(models.Model):
    """The durable intent of a call to an operator (ARCHITECTURE "Operator requests"): written by a contracts
    service in the same transaction as the change it serves; ``provisioning`` plans it at the operator's next
    window (``planned_at``), sends it with ``idempotency_key`` (the operator never does it twice), and reports
    the outcome by calling contracts services. ``not_before`` is the earliest instant asked by the partner
    (activation date, effective date of a scheduled change)."""

    Kind = RequestKind

    class State(models.TextChoices):
        PENDING = "pending", _("À planifier")
        PLANNED = "planned", _("Planifiée")
        SENT = "sent", _("Envoyée")
        COMPLETED = "completed", _("Terminée")
        FAILED = "failed", _("En échec")
        CANCELLED = "cancelled", _("Annulée")

    TRANSITIONS: dict[str, set[str]] = {
        State.PENDING: {State.PLANNED, State.SENT, State.FAILED, State.CANCELLED},
        State.PLANNED: {State.PLANNED, State.SENT, State.FAILED, State.CANCELLED},
        State.SENT: {State.COMPLETED, State.FAILED, State.PLANNED},
        State.FAILED: {State.PENDING, State.CANCELLED},  # "retry" puts it back in the queue
        State.COMPLETED: set(),
        State.CANCELLED: set(),
    }
    OPEN_STATES = (State.PENDING, State.PLANNED, State.SENT)

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="operator_requests")
    network = models.CharField(_("réseau"), max_length=10, choices=Network.choices)
    kind = models.CharField(_("type"), max_length=32, choices=RequestKind.choices)
    payload = models.JSONField(_("contenu"), default=dict, encoder=DjangoJSONEncoder)
    idempotency_key = models.CharField(
        _("clé d'idempotence"), max_length=64, unique=True, default=new_request_key
    )
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.PENDING)
    not_before = models.DateTimeField(_("pas avant"), null=True, blank=True)
    planned_at = models.DateTimeField(_("planifiée pour"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    completed_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    operator_reference = models.CharField(_("référence opérateur"), max_length=64, blank=True)
    result = models.JSONField(_("résultat"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("créée le"))
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("demande opérateur")
        verbose_name_plural = _("demandes opérateur")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["state", "planned_at"], name="operator_request_due_idx"),
            models.Index(fields=["contract", "state"], name="operator_request_contract_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["pending", "planned", "sent", "completed", "failed", "cancelled"]),
                name="operator_request_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="planned") | Q(planned_at__isnull=False),
                name="operator_request_planned_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.contract_id} ({self.state})"


class DataBlock(models.Model):
    """A block the platform asked the operator for (``contracts.datablocks``), open until ``lifted_at``.

    ``scope``: ``data`` — the France + Europe envelope of a blocked plan is used up (R-ALR-1/2); ``roaming`` —
    the cut-off or roaming option of ``zone`` is used up (R-ALR-3, R-ROA-3/4); ``threshold`` — the data
    threshold of a Compteur / Compteur Data line is reached (R-CAT-7/8); ``sms`` — SMS sending barred by Orange
    fair use for ``lift_at`` (3 days, R-CAT-11). At most one open block per (contract, scope, zone): a partial
    unique index, so a block is written exactly once however many callers race for it."""

    class Scope(models.TextChoices):
        DATA = "data", _("Data France et Europe")
        ROAMING = "roaming", _("Data en itinérance")
        THRESHOLD = "threshold", _("Seuil data")
        SMS = "sms", _("Envoi de SMS")

    #: Scopes lifted by a data unblock (a top-up, a roaming change, the new month); ``sms`` ends by itself.
    DATA_SCOPES = (Scope.DATA, Scope.ROAMING, Scope.THRESHOLD)

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="data_blocks")
    scope = models.CharField(_("portée"), max_length=10, choices=Scope.choices)
    zone = models.CharField(_("zone"), max_length=20, blank=True, default="")
    rule = models.CharField(_("règle"), max_length=12, blank=True)
    reason = models.CharField(_("motif"), max_length=200, blank=True)
    blocked_at = models.DateTimeField(_("bloqué le"))
    lift_at = models.DateTimeField(_("fin prévue le"), null=True, blank=True)
    lifted_at = models.DateTimeField(_("débloqué le"), null=True, blank=True)
    lift_reason = models.CharField(_("motif du déblocage"), max_length=200, blank=True)
    block_request = models.ForeignKey(
        OperatorRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    lift_request = models.ForeignKey(
        OperatorRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("blocage data")
        verbose_name_plural = _("blocages data")
        ordering = ["-blocked_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "contract", "-blocked_at"], name="data_block_partner_idx"),
            models.Index(
                fields=["scope", "blocked_at"],
                condition=Q(lifted_at__isnull=True),
                name="data_block_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "contract", "scope", "zone"],
                condition=Q(lifted_at__isnull=True),
                name="data_block_one_open",
            ),
            models.CheckConstraint(
                condition=Q(scope__in=["data", "roaming", "threshold", "sms"]), name="data_block_scope_valid"
            ),
            # a roaming block names its zone; the others have none
            models.CheckConstraint(
                condition=Q(scope="roaming", zone__gt="") | (~Q(scope="roaming") & Q(zone="")),
                name="data_block_zone_for_roaming",
            ),
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True) | Q(lifted_at__gte=models.F("blocked_at")),
                name="data_block_lifted_after",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.scope}{':' + self.zone if self.zone else ''} ({self.blocked_at:%Y-%m-%d})"

    @property
    def is_open(self) -> bool:
        return self.lifted_at is None

    @property
    def where(self) -> str:
        """What is blocked, in French (« Europe », « France et Europe », « seuil data »…)."""
        if self.scope == self.Scope.ROAMING:
            return zone_label(self.zone)
        return {
            self.Scope.DATA: _("France et Europe"),
            self.Scope.THRESHOLD: _("seuil data"),
            self.Scope.SMS: _("usage raisonnable"),
        }.get(self.scope, self.scope)

    @property
    def label(self) -> str:
        """« Data bloquée (Europe, enveloppe atteinte) » / « Envoi de SMS bloqué (usage raisonnable, …) »."""
        title = _("Envoi de SMS bloqué") if self.scope == self.Scope.SMS else _("Data bloquée")
        detail = ", ".join(str(x) for x in (self.where, self.reason) if x)
        return f"{title} ({detail})" if detail else str(title)


class ContractTopup(models.Model):
    """A data top-up ("recharge") ordered on a line (R-CAT-10, R-CAT-6, R-CAT-7; ``contracts.topups``).

    Pending until the operator confirms it (it may take up to 30 minutes, R-PRV-5), then confirmed: its volume
    counts for the Europe/Paris month of the confirmation (``month``). The price is the catalog's at order time,
    copied (empty = « à définir », never invented). ``request_key`` makes a page's double click one top-up
    (STYLE 33)."""

    class State(models.TextChoices):
        PENDING = "pending", _("En cours")
        CONFIRMED = "confirmed", _("Confirmée")
        FAILED = "failed", _("En échec")
        CANCELLED = "cancelled", _("Annulée")

    TRANSITIONS: dict[str, set[str]] = {
        State.PENDING: {State.CONFIRMED, State.FAILED, State.CANCELLED},
        # a failed operator request may be retried and complete after all
        State.FAILED: {State.CONFIRMED},
        State.CONFIRMED: set(),
        State.CANCELLED: set(),
    }

    class Source(models.TextChoices):
        BACKOFFICE = "backoffice", _("Back-office")
        API = "api", _("API")
        SELFCARE = "selfcare", _("Espace client")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="topups")
    topup = models.ForeignKey(
        "catalog.Topup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recharge du catalogue"),
    )
    volume_bytes = models.BigIntegerField(_("volume (octets)"))
    price_ht = models.DecimalField(
        _("prix HT"), max_digits=10, decimal_places=2, null=True, blank=True, help_text=_("Vide : à définir.")
    )
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.PENDING)
    source = models.CharField(_("origine"), max_length=12, choices=Source.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("commandée le"))
    confirmed_at = models.DateTimeField(_("confirmée le"), null=True, blank=True)
    month = models.DateField(_("mois de consommation"), null=True, blank=True)
    operator_request = models.ForeignKey(
        OperatorRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    request_key = models.CharField(_("clé de requête"), max_length=64, null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)

    class Meta:
        verbose_name = _("recharge data")
        verbose_name_plural = _("recharges data")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "contract", "-requested_at"], name="contract_topup_partner_idx"),
            models.Index(
                fields=["month", "contract"], condition=Q(state="confirmed"), name="contract_topup_month_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "request_key"],
                condition=Q(request_key__isnull=False),
                name="contract_topup_request_key_unique",
            ),
            models.CheckConstraint(condition=Q(volume_bytes__gt=0), name="contract_topup_volume_positive"),
            models.CheckConstraint(
                condition=Q(price_ht__isnull=True) | Q(price_ht__gte=0), name="contract_topup_price_positive"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "confirmed", "failed", "cancelled"]),
                name="contract_topup_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="confirmed") | Q(confirmed_at__isnull=False, month__isnull=False),
                name="contract_topup_confirmed_has_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} +{self.volume_bytes} ({self.state})"

    @property
    def volume_label(self) -> str:
        """« 5 Go », « 10 Mo »."""
        return format_bytes(self.volume_bytes)


class IdempotencyRecord(models.Model):
    """One POST an API client made with an ``Idempotency-Key`` (``api.idempotency``): the key is scoped to
    the partner; the fingerprint (SHA-256 of method, path and canonical JSON body) tells a replay from a
    conflicting reuse; the first response is kept and replayed."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text=_("Corps JSON de la première réponse."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("clé d'idempotence")
        verbose_name_plural = _("clés d'idempotence")
        constraints = [
            models.UniqueConstraint(fields=["partner", "key"], name="idempotency_partner_key_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.partner_id}:{self.key}"


class ScheduledChange(models.Model):
    """A change of offer planned for the 1st of next month, 00:00 Europe/Paris (R-CON-1 upgrade/downgrade,
    R-CON-2 blocked ⇄ non-blocked migration), visible on the contract and cancellable until then.

    ``operator_request`` is the durable intent sent to the operator (``change_offer`` with ``not_before =
    effective_at``): the dispatcher sends it at the effective date, and ``contract.offer`` switches only when
    the operator confirms it (``contracts.scheduling``). Between ``effective_at`` and that confirmation the
    contract still shows its current offer, with this change "en cours chez l'opérateur"; billing reads the
    contractual date, ``effective_at``, not ``applied_at``."""

    class Kind(models.TextChoices):
        UPGRADE = "upgrade", _("Upgrade")
        DOWNGRADE = "downgrade", _("Downgrade")
        MIGRATION = "migration", _("Migration d'offre")

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Programmé")
        APPLIED = "applied", _("Appliqué")
        CANCELLED = "cancelled", _("Annulé")
        FAILED = "failed", _("En échec")

    TRANSITIONS: dict[str, set[str]] = {
        State.SCHEDULED: {State.APPLIED, State.CANCELLED, State.FAILED},
        # a failed operator request may be retried ("retry" action): the change waits again, or completes
        State.FAILED: {State.SCHEDULED, State.APPLIED, State.CANCELLED},
        State.APPLIED: set(),
        State.CANCELLED: set(),
    }

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="scheduled_changes")
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    from_offer = models.ForeignKey(
        "catalog.Offer", on_delete=models.PROTECT, related_name="+", verbose_name=_("offre actuelle")
    )
    to_offer = models.ForeignKey(
        "catalog.Offer", on_delete=models.PROTECT, related_name="+", verbose_name=_("nouvelle offre")
    )
    effective_at = models.DateTimeField(_("effectif le"))
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.SCHEDULED)
    rule = models.CharField(_("règle"), max_length=12, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("programmé le"))
    applied_at = models.DateTimeField(_("appliqué le"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("annulé le"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_error = models.TextField(_("dernière erreur"), blank=True)
    operator_request = models.ForeignKey(
        OperatorRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("changement d'offre programmé")
        verbose_name_plural = _("changements d'offre programmés")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["partner", "contract"], name="sched_change_partner_idx"),
            models.Index(fields=["state", "effective_at"], name="sched_change_due_idx"),
        ]
        constraints = [
            # At most one pending change per contract (R-CON-9: Upgrade/Downgrade and Migration are greyed).
            models.UniqueConstraint(
                fields=["contract"], condition=Q(state="scheduled"), name="sched_change_one_pending"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["scheduled", "applied", "cancelled", "failed"]),
                name="sched_change_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["upgrade", "downgrade", "migration"]), name="sched_change_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(from_offer=models.F("to_offer")), name="sched_change_other_offer"
            ),
            models.CheckConstraint(
                condition=~Q(state="applied") | Q(applied_at__isnull=False), name="sched_change_applied_at"
            ),
            models.CheckConstraint(
                condition=~Q(state="cancelled") | Q(cancelled_at__isnull=False),
                name="sched_change_cancelled_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.kind} → {self.to_offer_id} ({self.state})"

    @property
    def is_due(self) -> bool:
        """The effective date has come: no longer cancellable, waiting for the operator's confirmation."""
        from django.utils import timezone

        return timezone.now() >= self.effective_at

    @property
    def cancellable(self) -> bool:
        return self.state == self.State.SCHEDULED and not self.is_due


class EsimActivation(models.Model):
    """What the operator holds for one eSIM profile (R-ORD-3/4): the activation code and the 6-digit
    confirmation code it checks when the handset downloads the profile. Written from the operator's answer to
    the creation (or swap to eSIM), read to send and resend the details (``contracts.esim``) and shown on the
    contract's Resources tab. One row per profile: a new eSIM is a new profile (R-OPT-2)."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="esim_activations")
    esim = models.OneToOneField(
        "inventory.EsimProfile", on_delete=models.PROTECT, related_name="+", verbose_name=_("eSIM")
    )
    activation_code = models.CharField(_("code d'activation"), max_length=255)
    confirmation_code = models.CharField(_("code de confirmation"), max_length=6)
    operator_request = models.ForeignKey(
        OperatorRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmé par l'opérateur le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créé le"))

    class Meta:
        verbose_name = _("activation eSIM")
        verbose_name_plural = _("activations eSIM")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["partner", "contract"], name="esim_activation_partner_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(confirmation_code__regex=r"^[0-9]{6}$"), name="esim_activation_code_6_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.esim_id}"
