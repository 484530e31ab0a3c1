"""The back-office order form (R-ORD-1, R-ORD-2). It checks input shape and builds the service call; every rule is
enforced by ``contracts.services.order_place``, whose ``RuleViolation`` is put next to the field it names.

The form narrows offers by network → range → blocked → envelope, then shows what ``catalog.rules`` allows for the
chosen offer: 5G where not included (R-CAT-9), service options, "allow SVA?", roaming per zone (R-OPT-5,
R-ROA-3/4), the eSIM only on Orange (R-OPT-2). Lines are entered one row per line (unit configuration, up to
``UNIT_MAX_ROWS``) or pasted one per text line (multiple configuration, up to 1,000).
"""

from __future__ import annotations

import csv
import io

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from catalog import rules as catalog_rules
from catalog.models import Offer, Option, Range, RoamingChoice, Zone
from contracts.models import Order, SimType
from contracts.rules import number_chosen_at_order
from contracts.services import MAX_LINES_PER_ORDER, SVA_BLOCK_OPTION, LineSpec
from core.errors import RuleViolation
from core.money import format_bytes
from core.networks import Network
from partners.models import ClientAccount, Partner
from partners.selectors import client_list

UNIT_MAX_ROWS = 20
LINE_FIELDS = ("user_name", "msisdn", "contact_email", "contact_mobile", "sim_type", "rio")
CSV_COLUMNS = _lazy("utilisateur ; numéro ; e-mail du contact ; mobile du contact ; type de SIM ; RIO")
SIM_TYPE_WORDS = {
    "": "",
    "pin": SimType.WITH_PIN,
    "avec pin": SimType.WITH_PIN,
    "avec_pin": SimType.WITH_PIN,
    "sans pin": SimType.WITHOUT_PIN,
    "sans_pin": SimType.WITHOUT_PIN,
    "no_pin": SimType.WITHOUT_PIN,
    "esim": SimType.ESIM,
    "e-sim": SimType.ESIM,
}
NOT_ORDERABLE_HERE = {catalog_rules.ESIM, catalog_rules.FIVE_G, catalog_rules.VOLTE_VOWIFI}


def _offer_label(offer: Offer) -> str:
    price = (
        _("%(price)s €/mois") % {"price": str(offer.monthly_price_ht).replace(".", ",")}
        if offer.monthly_price_ht is not None
        else _("prix à définir")
    )
    return f"{offer.label} — {price}"


def roaming_choice_label(choice: catalog_rules.RoamingChoiceFacts) -> str:
    amount = (
        f"{choice.limit} €"
        if choice.unit == "eur"
        else (format_bytes(choice.limit) if choice.limit else "0 Mo")
    )
    if choice.kind == "cutoff":
        return _("Cut-off (compteur) %(amount)s") % {"amount": amount}
    price = str(choice.price_ht).replace(".", ",") if choice.price_ht is not None else "?"
    if choice.option_type == "voice_sms_data":
        return _("Option roaming Voix SMS & Data %(amount)s (%(price)s €/mois)") % {
            "amount": amount,
            "price": price,
        }
    return _("Option roaming %(amount)s (%(price)s €/mois)") % {"amount": amount, "price": price}


class OrderForm(forms.Form):
    client = forms.ModelChoiceField(label=_lazy("Client"), queryset=ClientAccount.objects.none())
    network = forms.ChoiceField(
        label=_lazy("Réseau"), required=False, choices=[("", _lazy("Tous"))] + list(Network.choices)
    )
    range = forms.ChoiceField(
        label=_lazy("Gamme"), required=False, choices=[("", _lazy("Toutes"))] + list(Range.choices)
    )
    blocked = forms.ChoiceField(
        label=_lazy("Forfait bloqué"),
        required=False,
        choices=[("", _lazy("Indifférent")), ("1", _lazy("Bloqué")), ("0", _lazy("Non bloqué"))],
    )
    offer = forms.ChoiceField(label=_lazy("Offre (enveloppe)"))
    quantity = forms.IntegerField(
        label=_lazy("Quantité"), min_value=1, max_value=MAX_LINES_PER_ORDER, initial=1
    )
    configuration = forms.ChoiceField(
        label=_lazy("Configuration des lignes"),
        choices=Order.Configuration.choices,
        initial=Order.Configuration.UNIT,
        widget=forms.RadioSelect,
    )
    portability = forms.ChoiceField(
        label=_lazy("Portabilité"),
        choices=[("0", _lazy("Non")), ("1", _lazy("Oui"))],
        initial="0",
        widget=forms.RadioSelect,
    )
    sim_type = forms.ChoiceField(
        label=_lazy("Type de SIM"),
        choices=SimType.choices,
        initial=SimType.WITH_PIN,
        widget=forms.RadioSelect,
    )
    activation_date = forms.DateField(
        label=_lazy("Date d'activation"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    lines_csv = forms.CharField(
        label=_lazy("Lignes (une par ligne)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono"}),
        help_text=_lazy(
            "Colonnes séparées par « ; » : %(columns)s. Le RIO n'est rempli que pour une portabilité."
        )
        % {"columns": CSV_COLUMNS},
    )

    def __init__(self, *args, partner: Partner, client: ClientAccount | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner = partner
        self.fixed_client = client
        self.fields["client"].queryset = client_list(partner)
        if client is not None:
            self.fields["client"].initial = client.pk
            self.fields["client"].widget = forms.HiddenInput()
        self.fields["activation_date"].initial = timezone.localdate()
        self.offers = self._narrowed_offers()
        self.fields["offer"].choices = self._offer_choices()
        self.offer = self._selected_offer()
        self.option_verdicts: list = []
        self.topups: list[str] = []
        self.europe_cutoff = ""
        self.roaming_fields: list[str] = []
        self.zone_notes: list[tuple[str, str]] = []
        if self.offer is not None:
            self._add_offer_fields(self.offer)
        self.unit_rows = self._add_line_rows()

    # -- reading the current (bound or initial) values ---------------------------------------------------

    def value(self, name: str, default=""):
        source = self.data if self.is_bound else self.initial
        value = source.get(name, default)
        return value if value is not None else default

    def _narrowed_offers(self) -> list[Offer]:
        qs = Offer.objects.filter(active=True).order_by("network", "sort_order", "code")
        network, range_, blocked = self.value("network"), self.value("range"), self.value("blocked")
        if network:
            qs = qs.filter(network=network)
        if range_:
            qs = qs.filter(range=range_)
        offers = list(qs)
        if blocked in ("0", "1"):
            offers = [o for o in offers if o.blocked is None or o.blocked == (blocked == "1")]
        return offers

    def _offer_choices(self):
        groups: dict[str, list] = {}
        for offer in self.offers:
            group = f"{Network(offer.network).label} · {Range(offer.range).label}"
            groups.setdefault(group, []).append((offer.code, _offer_label(offer)))
        return [("", _("— Choisir une offre —")), *groups.items()]

    def _selected_offer(self) -> Offer | None:
        code = self.value("offer")
        return next((o for o in self.offers if o.code == code), None)

    # -- fields that depend on the offer (catalog rules) -------------------------------------------------

    def _add_offer_fields(self, offer: Offer) -> None:
        facts = catalog_rules.OfferFacts.of(offer)
        if catalog_rules.five_g_is_option(facts):
            self.fields["five_g"] = forms.BooleanField(
                label=_("5G (en option, R-CAT-9)"),
                required=False,
                help_text=catalog_rules.five_g(facts).reason,
            )
        if offer.range in catalog_rules.VOICE_RANGES:
            self.fields["allow_sva"] = forms.ChoiceField(
                label=_("Autoriser les SVA ?"),
                choices=[("1", _("Oui")), ("0", _("Non"))],
                initial="1",
            )
        options = Option.objects.filter(network=offer.network, active=True, orderable=True).order_by(
            "sort_order", "code"
        )
        sva_code = SVA_BLOCK_OPTION[offer.network]
        choices = []
        for option in options:
            if option.code in NOT_ORDERABLE_HERE or option.code == sva_code:
                continue
            decision = catalog_rules.option_eligibility(facts, option.code, self.partner.is_init_sys)
            self.option_verdicts.append((option, decision))
            if decision.allowed:
                choices.append((option.code, option.label))
        self.fields["options"] = forms.MultipleChoiceField(
            label=_("Options"), required=False, choices=choices, widget=forms.CheckboxSelectMultiple
        )
        if offer.network != Network.ORANGE:  # R-OPT-2
            self.fields["sim_type"].choices = [c for c in SimType.choices if c[0] != SimType.ESIM]
        else:
            self.fields["sim_type"].choices = [
                (value, _("eSIM (+1,50 € HT)") if value == SimType.ESIM else label)
                for value, label in SimType.choices
            ]
        self.topups = [format_bytes(v) for v in catalog_rules.allowed_topups(facts)]
        rows = list(
            RoamingChoice.objects.filter(network=offer.network, active=True).order_by("sort_order", "code")
        )
        allowed = catalog_rules.roaming_choices(facts, rows)
        for zone in catalog_rules.roaming_zones(facts):
            label = str(Zone(zone.zone).label)
            if not zone.allowed:
                self.zone_notes.append((label, zone.reason))
                continue
            zone_choices = [c for c in allowed if c.zone == zone.zone]
            if any(c.derived for c in zone_choices):
                europe = next(c for c in zone_choices if c.derived)
                self.europe_cutoff = format_bytes(europe.limit) if europe.limit else "0 Mo"
                continue
            name = f"roaming_{zone.zone}"
            self.fields[name] = forms.ChoiceField(
                label=_("Roaming %(zone)s") % {"zone": label},
                required=False,
                choices=[(c.code, roaming_choice_label(c)) for c in zone_choices],
                help_text=_("Choix du cut-off ou de l'option (%(rule)s).") % {"rule": zone.rule},
            )
            self.roaming_fields.append(name)

    def _add_line_rows(self) -> list[list[forms.BoundField]]:
        try:
            quantity = int(self.value("quantity", 1) or 1)
        except (TypeError, ValueError):
            quantity = 1
        if self.value("configuration", Order.Configuration.UNIT) != Order.Configuration.UNIT:
            return []
        rows = []
        sim_choices = [("", _("(type de la commande)")), *self.fields["sim_type"].choices]
        for i in range(max(1, min(quantity, UNIT_MAX_ROWS))):
            specs = {
                "user_name": forms.CharField(label=_("Utilisateur"), required=False, max_length=120),
                "msisdn": forms.CharField(label=_("Numéro"), required=False, max_length=20),
                "contact_email": forms.CharField(
                    label=_("E-mail du contact"), required=False, max_length=254
                ),
                "contact_mobile": forms.CharField(
                    label=_("Mobile du contact"), required=False, max_length=20
                ),
                "sim_type": forms.ChoiceField(label=_("Type de SIM"), required=False, choices=sim_choices),
                "rio": forms.CharField(label=_("RIO"), required=False, max_length=20),
            }
            names = []
            for key, field in specs.items():
                name = f"line_{i}_{key}"
                self.fields[name] = field
                names.append(name)
            rows.append(names)
        return rows

    def line_rows(self):
        return [(i + 1, [self[name] for name in names]) for i, names in enumerate(self.unit_rows)]

    # -- validation of shape -----------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        if self.offer is None and not self.errors.get("offer"):
            self.add_error("offer", _("Choisissez une offre."))
        configuration = cleaned.get("configuration")
        portability = cleaned.get("portability") == "1"
        if configuration == Order.Configuration.UNIT:
            quantity = cleaned.get("quantity") or 0
            if quantity > UNIT_MAX_ROWS:
                self.add_error(
                    "quantity",
                    _("En configuration unitaire, %(max)d lignes au plus : passez en configuration multiple.")
                    % {"max": UNIT_MAX_ROWS},
                )
            lines = []
            for i, names in enumerate(self.unit_rows[:quantity]):
                prefix = f"line_{i}_"
                values = {name.removeprefix(prefix): (cleaned.get(name) or "").strip() for name in names}
                if values["rio"] and not portability:
                    self.add_error(f"line_{i}_rio", _("Portabilité à « Non » : pas de RIO."))
                lines.append(
                    LineSpec(
                        user_name=values["user_name"],
                        msisdn=values["msisdn"],
                        contact_email=values["contact_email"],
                        contact_mobile=values["contact_mobile"],
                        sim_type=values["sim_type"],
                        portability=bool(values["rio"])
                        or (portability and bool(values["msisdn"]) and self._is_port_only()),
                        rio=values["rio"],
                    )
                )
            cleaned["lines"] = lines
        else:
            cleaned["lines"] = self._parse_csv(cleaned.get("lines_csv") or "", portability)
            if cleaned["lines"]:
                cleaned["quantity"] = len(cleaned["lines"])
        return cleaned

    def _is_port_only(self) -> bool:
        """Portability "Oui" on an Orange offer: a number typed on a line can only be the ported number
        (Orange numbers of new lines are drawn at random, R-CON-6)."""
        return self.offer is not None and not number_chosen_at_order(self.offer.network)

    def _parse_csv(self, text: str, portability: bool) -> list[LineSpec]:
        rows = [r for r in text.splitlines() if r.strip()]
        if not rows:
            return []
        delimiter = ";" if ";" in rows[0] else ("\t" if "\t" in rows[0] else ",")
        reader = csv.reader(io.StringIO("\n".join(rows)), delimiter=delimiter)
        lines: list[LineSpec] = []
        for number, cells in enumerate(reader, start=1):
            cells = [c.strip() for c in cells] + [""] * 6
            if number == 1 and cells[0].lower() in ("utilisateur", "user", "user_name"):
                continue
            user, msisdn, email, mobile, sim, rio = cells[:6]
            sim_type = SIM_TYPE_WORDS.get(sim.lower())
            if sim_type is None:
                self.add_error(
                    "lines_csv",
                    _("Ligne %(n)d : type de SIM « %(value)s » inconnu (pin, sans pin, esim).")
                    % {"n": number, "value": sim},
                )
                continue
            if rio and not portability:
                self.add_error(
                    "lines_csv", _("Ligne %(n)d : portabilité à « Non » : pas de RIO.") % {"n": number}
                )
            lines.append(
                LineSpec(
                    user_name=user,
                    msisdn=msisdn,
                    contact_email=email,
                    contact_mobile=mobile,
                    sim_type=sim_type,
                    portability=bool(rio) or (portability and bool(msisdn) and self._is_port_only()),
                    rio=rio,
                )
            )
        if len(lines) > MAX_LINES_PER_ORDER:
            self.add_error(
                "lines_csv", _("Une commande compte au plus %(max)d lignes.") % {"max": MAX_LINES_PER_ORDER}
            )
        return lines

    def order_kwargs(self) -> dict:
        """The arguments of ``order_place`` (besides partner and author)."""
        data = self.cleaned_data
        return {
            "client": self.fixed_client or data["client"],
            "offer": self.offer,
            "quantity": data["quantity"],
            "lines": data["lines"],
            "configuration": data["configuration"],
            "sim_type": data["sim_type"],
            "five_g": bool(data.get("five_g")),
            "allow_sva": data.get("allow_sva", "1") != "0",
            "option_codes": data.get("options") or [],
            "roaming": {name.removeprefix("roaming_"): data.get(name) or "" for name in self.roaming_fields},
            "activation_date": data["activation_date"],
        }

    # -- errors from the service --------------------------------------------------------------------------

    def add_rule_violation(self, exc: RuleViolation) -> None:
        """Put the service's refusal next to the field it names, with the rule id (R-ORD-2…)."""
        message = f"{exc.message} ({exc.rule})" if exc.rule else str(exc.message)
        field = exc.field or ""
        target: str | None = None
        if field.startswith("lines["):
            index, _sep, name = field[len("lines[") :].partition("].")
            candidate = f"line_{index}_{'rio' if name == 'portability' else name}"
            if candidate in self.fields:
                target = candidate
            elif (
                "lines_csv" in self.fields
                and self.cleaned_data.get("configuration") != Order.Configuration.UNIT
            ):
                target = "lines_csv"
        elif field.startswith("roaming."):
            candidate = "roaming_" + field.removeprefix("roaming.")
            target = candidate if candidate in self.fields else None
        elif field in ("client_id",):
            target = "client"
        elif field == "lines" and self.cleaned_data.get("configuration") != Order.Configuration.UNIT:
            target = "lines_csv"
        elif field in self.fields:
            target = field
        self.add_error(target, message)
