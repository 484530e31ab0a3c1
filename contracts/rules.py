"""Pure rules of the contract domain (no ORM): MSISDN formats, the RIO portability code (ID-RIO),
the technical settings shown on a line (R-SET-1..4) and the actions possible on a contract (R-CON-9).

Everything here works on plain values so it can be tested exhaustively and reused by the back-office,
the API, the self-care and provisioning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import phonenumbers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

ORANGE = "orange"
BOUYGUES = "bouygues"

# --------------------------------------------------------------------------------------------------
# MSISDN (ID-MSISDN)
# --------------------------------------------------------------------------------------------------

_NON_DIGITS = re.compile(r"[\s.\-()/]")
M2M_NATIONAL = re.compile(r"^0700\d{10}$")  # 14-digit Orange Data only / M2M numbers (R-CAT-5/6)
MOBILE_NATIONAL = re.compile(r"^0[67]\d{8}$")


def msisdn_normalize(value: str | None) -> str:
    """The national form of a French mobile number: ``+33 6 12 34 56 78``, ``0033612345678``,
    ``33612345678`` and ``06.12.34.56.78`` all give ``0612345678``; 14-digit ``0700…`` numbers and their
    15-digit international form ``33700…`` give the 14-digit national form. Returns ``""`` for empty
    input; anything else is returned cleaned but unchanged (validate with :func:`is_mobile_number`)."""
    if not value:
        return ""
    cleaned = _NON_DIGITS.sub("", str(value).strip())
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    elif cleaned.startswith("00"):
        cleaned = cleaned[2:]
    else:
        return cleaned
    if cleaned.startswith("33"):
        return "0" + cleaned[2:]
    return "+" + cleaned  # a foreign number: keep it recognisably international


def _bare_international(value: str) -> str:
    cleaned = _NON_DIGITS.sub("", str(value).strip())
    if cleaned.startswith("33") and len(cleaned) in (11, 15):
        return "0" + cleaned[2:]
    return cleaned


def msisdn_from_any(value: str | None) -> str:
    """Like :func:`msisdn_normalize`, also accepting the bare international forms ``33612345678`` (11D)
    and ``337000080910112`` (15D)."""
    normalized = msisdn_normalize(value)
    if normalized and not normalized.startswith("0") and not normalized.startswith("+"):
        return _bare_international(normalized)
    return normalized


@lru_cache(maxsize=4096)
def number_chosen_at_order(network: str) -> bool:
    """R-ORD-2 / R-CON-6: a new line's number is chosen from the partner's pool only on Bouygues; Orange draws
    it at random (or assigns it after the order for Data only and M2M). A number typed on an Orange line can
    therefore only be a ported number."""
    return network == "bouygues"


def is_mobile_number(national: str) -> bool:
    """A 10-digit French mobile number (06/07) that is allocated (``phonenumbers`` knows 071/072 and
    070 are not)."""
    if not national or not MOBILE_NATIONAL.match(national):
        return False
    try:
        parsed = phonenumbers.parse(national, "FR")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


def is_m2m_number(national: str) -> bool:
    """A 14-digit ``0700…`` number (Orange Data only / M2M, R-CAT-5/6); ``phonenumbers`` rejects them."""
    return bool(national) and bool(M2M_NATIONAL.match(national))


def msisdn_international(national: str) -> str:
    """``0612345678`` → ``33612345678`` (11 digits, "11D"); ``07000080910112`` → ``337000080910112``
    (15 digits, "15D")."""
    if not national or not national.startswith("0"):
        return national or ""
    return "33" + national[1:]


def msisdn_display(national: str | None) -> str:
    """``0612345678`` → ``06 12 34 56 78``; 14-digit numbers are grouped ``0700 00 80 91 01 12``."""
    if not national:
        return "—"
    if len(national) == 10 and national.isdigit():
        return " ".join(national[i : i + 2] for i in range(0, 10, 2))
    if len(national) == 14 and national.isdigit():
        return national[:4] + " " + " ".join(national[i : i + 2] for i in range(4, 14, 2))
    return national


# R-ORD-2 activation date: from today to at most a year ahead. A later date is a typing slip (2062 for 2026) that
# would leave the line waiting in the queue for decades; it is refused, naming the field.
ACTIVATION_HORIZON_DAYS = 365


def activation_horizon(today: date) -> date:
    """The last activation date an order placed on ``today`` may ask for."""
    return today + timedelta(days=ACTIVATION_HORIZON_DAYS)


# --------------------------------------------------------------------------------------------------
# RIO (ID-RIO): OO Q RRRRRR KKK
# --------------------------------------------------------------------------------------------------

RIO_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+"
RIO_OPERATORS = {"01": "Orange", "02": "SFR", "03": "Bouygues Telecom", "04": "Free Mobile"}
_RIO_SHAPE = re.compile(r"^[0-9A-Z]{2}[PE][0-9A-Z]{6}[0-9A-Z+]{3}$")


@dataclass(frozen=True)
class RioError:
    """Why a RIO is refused: a French message and the code of the failed check."""

    code: str  # length | operator | kind | contract | key | number
    message: str


def rio_key(prefix: str, national_number: str) -> str:
    """The 3-character key of a RIO: ``prefix`` is the 9 characters ``OO Q RRRRRR``, ``national_number``
    the 10-digit number. ``rio_key("01P123456", "0612345678") == "36Q"`` (ID-RIO)."""
    text = (prefix + national_number).upper()
    if len(prefix) != 9 or len(national_number) != 10:
        raise ValueError("RIO key needs a 9-character prefix and a 10-digit number")
    a = b = c = 0
    for char in text:
        p = RIO_ALPHABET.index(char)
        a = (a + p) % 37
        b = (2 * b + p) % 37
        c = (4 * c + p) % 37
    return RIO_ALPHABET[a] + RIO_ALPHABET[b] + RIO_ALPHABET[c]


def rio_normalize(value: str | None) -> str:
    """Upper case, spaces removed (input is case-insensitive, ID-RIO)."""
    return re.sub(r"\s", "", value or "").upper()


def rio_check(rio: str | None, national_number: str | None) -> RioError | None:
    """``None`` if ``rio`` is a valid RIO for ``national_number`` (both normalised here), otherwise why not.

    Checks, in order: length 12, operator code (2 alphanumeric characters, not ``00``), ``P``/``E``,
    6 alphanumeric contract characters, the number being a 10-digit national number, and the key
    computed from the number."""
    value = rio_normalize(rio)
    number = msisdn_from_any(national_number)
    if len(value) != 12:
        return RioError(
            "length", _("Le code RIO doit comporter 12 caractères (%(n)d saisis).") % {"n": len(value)}
        )
    operator = value[:2]
    if not re.fullmatch(r"[0-9A-Z]{2}", operator) or operator == "00":
        return RioError(
            "operator",
            _(
                "Le code opérateur « %(op)s » du RIO est invalide (2 caractères alphanumériques, ex. 01 Orange)."
            )
            % {"op": operator},
        )
    if value[2] not in "PE":
        return RioError("kind", _("Le 3e caractère du RIO doit être P (particulier) ou E (entreprise)."))
    if not re.fullmatch(r"[0-9A-Z]{6}", value[3:9]):
        return RioError("contract", _("Les caractères 4 à 9 du RIO doivent être alphanumériques."))
    if not _RIO_SHAPE.match(value):
        return RioError("key", _("La clé du RIO (3 derniers caractères) contient un caractère invalide."))
    if not number or len(number) != 10 or not number.isdigit():
        return RioError("number", _("Le numéro porté doit être un numéro national à 10 chiffres."))
    expected = rio_key(value[:9], number)
    if value[9:] != expected:
        return RioError(
            "key",
            _("La clé du RIO ne correspond pas au numéro %(number)s : vérifiez le RIO (3179).")
            % {"number": msisdn_display(number)},
        )
    return None


def rio_is_valid(rio: str | None, national_number: str | None) -> bool:
    return rio_check(rio, national_number) is None


def rio_operator_name(rio: str) -> str:
    return RIO_OPERATORS.get(rio_normalize(rio)[:2], _("Autre opérateur"))


# --------------------------------------------------------------------------------------------------
# Technical settings (R-SET-1..4)
# --------------------------------------------------------------------------------------------------

ORANGE_SIM_PROFILE_SWITCH = date(2023, 6, 13)  # R-SET-4: SIM received before → "Telco Mobile"
ORANGE_ESIM_PROFILE_SWITCH = date(2024, 9, 19)  # R-SET-4: eSIM activated before → "Telco Mobile"
BOUYGUES_PROFILE_SWITCH = date(2025, 4, 15)  # R-SET-4: before → "Telco Mobile"
LEGACY_NETWORK_NAME = "Telco Mobile"


@dataclass(frozen=True)
class SettingsSection:
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    rule: str = ""


def network_name(
    *,
    network: str,
    is_esim: bool = False,
    sim_received_on: date | None = None,
    esim_activated_on: date | None = None,
    line_activated_on: date | None = None,
    today: date | None = None,
) -> str:
    """R-SET-4: the network name shown by the phone ("profil électrique" by default).

    Orange: "Orange", but "Telco Mobile" for a physical SIM received before 2023-06-13 or an eSIM
    activated before 2024-09-19. Bouygues: "Bouygues Tel", "Telco Mobile" for a line activated before
    2025-04-15. A missing date means "not yet" (the line will get the current name): ``today``."""
    if network == ORANGE:
        if is_esim:
            when = esim_activated_on or today
            return LEGACY_NETWORK_NAME if when and when < ORANGE_ESIM_PROFILE_SWITCH else "Orange"
        when = sim_received_on or today
        return LEGACY_NETWORK_NAME if when and when < ORANGE_SIM_PROFILE_SWITCH else "Orange"
    when = line_activated_on or today
    return LEGACY_NETWORK_NAME if when and when < BOUYGUES_PROFILE_SWITCH else "Bouygues Tel"


def _login(msisdn: str, domain: str) -> str:
    if not msisdn:
        return _("<numéro>@%(domain)s (numéro communiqué par l'opérateur après la commande)") % {
            "domain": domain
        }
    return f"{msisdn}@{domain}"


def msisdn_15d(national: str) -> str:
    """R-SET-2: the international form used by Orange logins: a 14-digit ``0700…`` number gives the
    15-digit ``337…`` form of the seed (``07000080910112`` → ``337000080910112``); a 10-digit number has
    only its 11-digit form (``33612345678``)."""
    return msisdn_international(national) if national else ""


def msisdn_11d(national: str) -> str:
    """R-SET-3: the 11-digit form ``33…`` used by Bouygues partner-platform logins (Bouygues numbers
    have 10 digits, R-CAT-5)."""
    return msisdn_international(national) if national else ""


def technical_settings(
    *,
    network: str,
    msisdn: str | None,
    has_fixed_ip: bool = False,
    has_partner_platform: bool = False,
    partner_is_init_sys: bool = False,
    visp_index: int = 1,
    is_esim: bool = False,
    sim_received_on: date | None = None,
    esim_activated_on: date | None = None,
    line_activated_on: date | None = None,
    today: date | None = None,
) -> list[SettingsSection]:
    """The "Informations techniques" tab: voicemail (R-SET-1), APN (R-SET-2 Orange / R-SET-3 Bouygues)
    with the fixed-IP and partner-platform logins when the line has them, the network name
    (R-SET-4) and the SIM profile used abroad (R-ROA-5). ``visp_index`` > 1 gives ``partenaire2.otd``…
    for partners with several VISPs."""
    msisdn = msisdn or ""
    sections: list[SettingsSection] = []
    visp = "" if visp_index <= 1 else str(visp_index)
    if network == ORANGE:
        sections.append(
            SettingsSection(
                _("Messagerie vocale"),
                [(_("Depuis la ligne"), "888"), (_("Depuis un autre téléphone"), "+33 6 07 07 88 88")],
                "R-SET-1",
            )
        )
        sections.append(
            SettingsSection(
                _("APN Internet"),
                [
                    (_("Nom"), "Orange internet"),
                    ("APN", "orange"),
                    (_("Utilisateur"), "orange"),
                    (_("Mot de passe"), "orange"),
                    ("MCC", "208"),
                    ("MNC", "01"),
                    (_("Authentification"), "PAP"),
                    (_("Type d'APN"), "default"),
                    ("MMSC", "http://mms.orange.fr"),
                ],
                "R-SET-2",
            )
        )
        if has_fixed_ip:
            sections.append(
                SettingsSection(
                    _("IP fixe"),
                    [
                        (_("Identifiant"), _login(msisdn_15d(msisdn), "alpha.otd")),
                        ("APN", "telcomobile.com"),
                        (_("Authentification"), "PAP"),
                        (_("Mot de passe"), _("dans les informations techniques de l'option")),
                    ],
                    "R-SET-2",
                )
            )
        if has_partner_platform and partner_is_init_sys:
            sections.append(
                SettingsSection(
                    _("Livraison plateforme partenaire"),
                    [
                        (_("Identifiant"), _login(msisdn_15d(msisdn), f"partenaire{visp}.otd")),
                        ("APN", "telcomobile.com"),
                        (_("Authentification"), "PAP"),
                    ],
                    "R-SET-2",
                )
            )
    else:
        sections.append(
            SettingsSection(
                _("Messagerie vocale"),
                [(_("Depuis la ligne"), "777"), (_("Depuis un numéro long"), "+33 6 60 66 00 01")],
                "R-SET-1",
            )
        )
        sections.append(
            SettingsSection(
                _("APN Internet"),
                [
                    (_("Nom"), "Bouygues Internet"),
                    ("APN", "mmsbouygtel.com"),
                    ("MCC", "208"),
                    ("MNC", "20"),
                    (_("Authentification"), "PAP"),
                    (_("Type d'APN"), "default,supl,mms,xcap"),
                    ("MMSC", "http://mms.bouyguestelecom.fr/mms/wapenc"),
                ],
                "R-SET-3",
            )
        )
        if has_fixed_ip:
            sections.append(
                SettingsSection(
                    _("IP fixe"),
                    [
                        ("APN", "mmsbouygtel.com"),
                        (_("Authentification"), "PAP / CHAP"),
                        (_("Adresse IP"), _("dans les informations techniques du contrat")),
                    ],
                    "R-SET-3",
                )
            )
        if has_partner_platform and partner_is_init_sys:
            sections.append(
                SettingsSection(
                    _("Livraison plateforme partenaire"),
                    [
                        (_("Identifiant"), _login(msisdn_11d(msisdn), f"partenaire{visp}.btd")),
                        (_("Authentification"), "PAP"),
                        ("lptype", "4"),
                        (_("Mot de passe"), _("défini par le partenaire")),
                    ],
                    "R-SET-3",
                )
            )
    sections.append(
        SettingsSection(
            _("Réseau affiché"),
            [
                (
                    _("Profil électrique"),
                    network_name(
                        network=network,
                        is_esim=is_esim,
                        sim_received_on=sim_received_on,
                        esim_activated_on=esim_activated_on,
                        line_activated_on=line_activated_on,
                        today=today,
                    ),
                )
            ],
            "R-SET-4",
        )
    )
    sections.append(roaming_profile_section())  # R-ROA-5
    return sections


# R-ROA-5: the SIM holds two profiles; its applet picks one from the country the phone is in. France and
# Belgium (direct roaming agreement with Proximus) use the domestic profile, every other country the
# international one (a switch the phone may see as a SIM change; the APN settings stay those of France).
DOMESTIC_PROFILE = "domestic"
INTERNATIONAL_PROFILE = "international"
DOMESTIC_PROFILE_COUNTRIES = ("FR", "BE")


def sim_profile(country: str) -> str:
    """R-ROA-5: ``domestic`` in France and Belgium, ``international`` elsewhere (ISO 3166 alpha-2 code)."""
    code = (country or "").strip().upper()
    if not code:
        raise ValueError("country code required")
    return DOMESTIC_PROFILE if code in DOMESTIC_PROFILE_COUNTRIES else INTERNATIONAL_PROFILE


def roaming_profile_section() -> SettingsSection:
    """R-ROA-5 as shown in the "Informations techniques" tab."""
    label = {DOMESTIC_PROFILE: _("Domestique"), INTERNATIONAL_PROFILE: _("International")}
    return SettingsSection(
        _("Profil SIM en itinérance"),
        [
            (_("France"), label[sim_profile("FR")]),
            (_("Belgique (accord direct Proximus)"), label[sim_profile("BE")]),
            (_("Autres pays"), label[INTERNATIONAL_PROFILE]),
        ],
        "R-ROA-5",
    )


# --------------------------------------------------------------------------------------------------
# Possible actions (R-CON-9)
# --------------------------------------------------------------------------------------------------

# Contract states, as plain strings (the model's ``Contract.State`` uses the same values).
PENDING = "pending"
ACTIVE = "active"
SUSPENDED = "suspended"
TERMINATING = "terminating"
TERMINATED = "terminated"
FAILED = "failed"

ACTION_TERMINATE = "terminate"
ACTION_SUSPEND = "suspend"
ACTION_RESUME = "resume"
ACTION_CHANGE_SPEED = "change_speed"
ACTION_MIGRATE = "migrate"
ACTION_SWAP_SIM = "swap_sim"
ACTION_SWAP_ESIM = "swap_esim"
ACTION_RETRY = "retry"
ACTION_CANCEL_CHANGE = "cancel_change"
ACTION_TOPUP = "topup"

ACTION_LABELS = {  # translated when shown (gettext_noop marks them for makemessages)
    ACTION_TERMINATE: gettext_noop("À résilier"),
    ACTION_SUSPEND: gettext_noop("Suspendre"),
    ACTION_RESUME: gettext_noop("Réactiver"),
    ACTION_CHANGE_SPEED: gettext_noop("Upgrade / Downgrade"),
    ACTION_MIGRATE: gettext_noop("Migration d'offre"),
    ACTION_SWAP_SIM: gettext_noop("SIM Swap vers SIM physique"),
    ACTION_SWAP_ESIM: gettext_noop("SIM Swap vers eSIM"),
    ACTION_RETRY: gettext_noop("Relancer la mise en service"),
    ACTION_CANCEL_CHANGE: gettext_noop("Annuler le changement d'offre programmé"),
    ACTION_TOPUP: gettext_noop("Recharge data"),
}


@dataclass(frozen=True)
class PossibleAction:
    code: str
    label: str
    enabled: bool
    reason: str = ""  # French, why it is greyed out
    rule: str = "R-CON-9"


def possible_actions(
    *,
    state: str,
    network: str,
    has_other_envelopes: bool = True,
    has_migration_target: bool = True,
    is_counter_offer: bool = False,
    has_scheduled_change: bool = False,
    has_sim_stock: bool = True,
    esim_swap_allowed: bool = True,
    open_kinds: frozenset[str] | set[str] = frozenset(),
    topup_reason: str = "",
    topup_rule: str = "R-CAT-10",
) -> list[PossibleAction]:
    """R-CON-9: every action of a contract, enabled or greyed out with the French reason.

    ``has_other_envelopes``: the same offer exists with another envelope (R-CON-1); ``has_migration_target``:
    the blocked ⇄ non-blocked counterpart exists (R-CON-2); ``is_counter_offer``: compteur offers have no
    envelope to change (R-CON-3); ``has_scheduled_change``: a change already waits for the 1st of next month;
    ``has_sim_stock``: a physical SIM is available for a swap (R-ORD-5); ``esim_swap_allowed``: e.g. the
    client's self-care setting (R-SC-6) — always True in the back-office; ``open_kinds``: kinds of the line's
    operator requests not finished yet (a suspension already asked is not asked twice); ``topup_reason``: why the
    offer takes no top-up now (R-CAT-10/6/4, R-CAT-7 compteur below its threshold; ``topup_rule``), empty when it
    takes some — « Recharge data » is also greyed on a suspended line."""
    reasons_by_state = {
        PENDING: _("La ligne est en cours d'activation."),
        TERMINATING: _("La ligne est en cours de résiliation."),
        TERMINATED: _("La ligne est résiliée."),
        FAILED: _("La mise en service a échoué : relancez-la d'abord."),
    }
    blocked_reason = reasons_by_state.get(state, "")

    def action(code: str, reason: str = "", rule: str = "R-CON-9") -> PossibleAction:
        reason = blocked_reason or reason
        return PossibleAction(code, _(ACTION_LABELS[code]), not reason, reason, rule)

    suspended_reason = _("La ligne est suspendue : réactivez-la d'abord.") if state == SUSPENDED else ""
    suspend_reason = (
        _("La ligne est déjà suspendue.")
        if state == SUSPENDED
        else (_("Une suspension est déjà demandée à l'opérateur.") if "suspend" in open_kinds else "")
    )
    resume_reason = (
        _("La ligne n'est pas suspendue.")
        if state != SUSPENDED
        else (_("Une réactivation est déjà demandée à l'opérateur.") if "resume" in open_kinds else "")
    )
    swap_reason = (
        _("Un SIM swap est déjà en cours sur cette ligne.")
        if {"swap_sim", "swap_sim_esim"} & set(open_kinds)
        else ""
    )
    change_reason = suspended_reason or (
        _("Un changement d'offre est déjà programmé pour le 1er du mois prochain.")
        if has_scheduled_change
        else ""
    )
    actions = [
        action(ACTION_TERMINATE),
        action(ACTION_SUSPEND, suspend_reason, "R-CON-5"),
        action(ACTION_RESUME, resume_reason, "R-CON-5"),
        action(
            ACTION_CHANGE_SPEED,
            change_reason
            or (_("Une offre compteur n'a pas d'enveloppe à changer.") if is_counter_offer else "")
            or ("" if has_other_envelopes else _("Aucune autre enveloppe n'existe pour cette offre.")),
            "R-CON-1",
        ),
        action(
            ACTION_MIGRATE,
            change_reason
            or (_("Une offre compteur ne peut pas migrer vers un forfait.") if is_counter_offer else "")
            or ("" if has_migration_target else _("Aucune offre bloquée / non bloquée équivalente.")),
            "R-CON-2",
        ),
        action(
            ACTION_SWAP_SIM,
            swap_reason
            or (
                ""
                if has_sim_stock
                else _("Aucune carte SIM disponible dans le stock du partenaire ou du client.")
            ),
            "R-ORD-5",
        ),
        action(
            ACTION_SWAP_ESIM,
            (_("L'eSIM n'est disponible que sur le réseau Orange.") if network != ORANGE else "")
            or swap_reason
            or ("" if esim_swap_allowed else _("Le SIM Swap vers eSIM n'est pas autorisé pour ce client.")),
            "R-OPT-2" if network != ORANGE else "R-ORD-5",
        ),
        action(
            ACTION_TOPUP,
            _("La ligne est suspendue : réactivez-la avant de commander une recharge.")
            if state == SUSPENDED
            else topup_reason,
            "R-CON-5" if state == SUSPENDED else topup_rule,
        ),
    ]
    if state == FAILED:
        actions.append(PossibleAction(ACTION_RETRY, _(ACTION_LABELS[ACTION_RETRY]), True, "", "R-CON-7"))
    if has_scheduled_change and state in (ACTIVE, SUSPENDED):  # cancellable until the 1st (R-CON-1/2)
        actions.append(
            PossibleAction(ACTION_CANCEL_CHANGE, _(ACTION_LABELS[ACTION_CANCEL_CHANGE]), True, "", "R-CON-1")
        )
    return actions
