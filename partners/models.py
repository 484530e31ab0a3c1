"""Tenants: partners (resellers), their staff, their client accounts and sites."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .validators import format_phone, validate_siret


class User(AbstractUser):
    """Every person who logs in: partner staff (through a PartnerMembership) or a client's fleet manager
    (through a SelfcareAccess, never both). Platform staff use ``is_staff`` for Django admin."""

    email = models.EmailField(_("adresse e-mail"), blank=True)


class Partner(models.Model):
    """A reseller: the platform's tenant."""

    name = models.CharField(_("raison sociale"), max_length=200)
    slug = models.SlugField(
        _("identifiant selfcare"),
        max_length=63,
        unique=True,
        help_text=_("Sous-domaine du selfcare : <slug>.espaceclient.<domaine> (R-SC-2)."),
    )
    is_init_sys = models.BooleanField(_("partenaire Init Sys"), default=False)
    is_rezocean = models.BooleanField(_("partenaire Rezocean"), default=False)
    logo = models.ImageField(_("logo (120×60 px)"), upload_to="partners/logos/", blank=True)
    notify_selfcare_orders = models.BooleanField(_("notification e-mail « Commande selfcare »"), default=True)
    notification_email = models.EmailField(_("e-mail des notifications"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("partenaire")
        verbose_name_plural = _("partenaires")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerMembership(models.Model):
    """A user's place in a partner's staff. A user belongs to at most one partner."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrateur")
        STAFF = "staff", _("Collaborateur")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("rôle"), max_length=10, choices=Role.choices, default=Role.STAFF)
    #: R-SC-8 / R-ALR-4: the emails this staff user chose to receive (``notifications.partners``).
    notify_selfcare_orders = models.BooleanField(_("Commande selfcare"), default=True)
    notify_usage_alerts = models.BooleanField(_("Alertes de consommation"), default=True)

    class Meta:
        verbose_name = _("membre du partenaire")
        verbose_name_plural = _("membres du partenaire")

    def __str__(self) -> str:
        return f"{self.user} @ {self.partner} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class ClientAccount(models.Model):
    """A partner's business customer (R-BO-1)."""

    class AccountType(models.TextChoices):
        PRO_VAT = "pro_vat", _("Professionnel assujetti à la TVA")
        PRO_NO_VAT = "pro_no_vat", _("Professionnel non assujetti à la TVA")
        PUBLIC = "public", _("Administration / collectivité")
        ASSOCIATION = "association", _("Association")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="clients")
    account_type = models.CharField(
        _("type de compte"), max_length=20, choices=AccountType.choices, default=AccountType.PRO_VAT
    )
    company_name = models.CharField(_("raison sociale"), max_length=200)
    siret = models.CharField(_("SIRET"), max_length=14, validators=[validate_siret])
    last_name = models.CharField(_("nom"), max_length=100, blank=True)
    first_name = models.CharField(_("prénom"), max_length=100, blank=True)
    country = models.CharField(_("pays"), max_length=2, default="FR")
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    city = models.CharField(_("ville"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    landline = models.CharField(_("téléphone fixe"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"))
    #: the client's own logo, uploaded from its self-care settings (same checks and 120×60 fit as R-SC-2)
    logo = models.ImageField(_("logo du client (120×60 px)"), upload_to="clients/logos/", blank=True)
    selfcare_esim_swap_allowed = models.BooleanField(
        _("autoriser l'action SIM Swap vers eSIM"),
        default=False,
        help_text=_(
            "Le client peut basculer une ligne vers une eSIM depuis son espace client (R-SC-1, R-SC-6)."
        ),
    )
    created_at = models.DateTimeField(_("date de création"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("compte client")
        verbose_name_plural = _("comptes clients")
        ordering = ["company_name", "id"]
        constraints = [
            models.UniqueConstraint(
                "partner",
                "siret",
                name="client_unique_siret_per_partner",
                violation_error_message=_("Un client de ce partenaire a déjà ce SIRET."),
            ),
        ]
        indexes = [
            models.Index("partner", Lower("company_name"), name="client_partner_name_idx"),
        ]

    def __str__(self) -> str:
        return self.company_name

    @property
    def contact_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def mobile_display(self) -> str:
        return format_phone(self.mobile)

    @property
    def landline_display(self) -> str:
        return format_phone(self.landline)


class Site(models.Model):
    """A client's site (a place its lines can be attached to)."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(ClientAccount, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("nom"), max_length=200)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True)
    city = models.CharField(_("ville"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("client", "name", name="site_unique_name_per_client"),
        ]

    def __str__(self) -> str:
        return self.name


class SelfcareAccess(models.Model):
    """A client's fleet manager on the partner's self-care (R-SC-1): one user, one client account of one
    partner. A client may have several; a partner staff user never has one (``partners.selfcare``)."""

    class Theme(models.TextChoices):
        DAY = "day", _("Jour")
        NIGHT = "night", _("Nuit")

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(ClientAccount, on_delete=models.CASCADE, related_name="selfcare_accesses")
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="selfcare_access")
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    invitation_sent_at = models.DateTimeField(_("informations envoyées le"), null=True, blank=True)
    #: R-SC-4 day/night mode, remembered per self-care user (the self-care base template applies it).
    theme = models.CharField(_("mode d'affichage"), max_length=5, choices=Theme.choices, default=Theme.DAY)

    class Meta:
        verbose_name = _("accès selfcare")
        verbose_name_plural = _("accès selfcare")
        ordering = ["user__username"]
        indexes = [models.Index("partner", "client", name="selfcare_partner_client_idx")]

    def __str__(self) -> str:
        return f"{self.user.username} ({self.client})"


class ApiToken(models.Model):
    """A partner staff user's API token (issue 10 item 6): named, with an expiry, revocable.

    Only the SHA-256 of the secret is stored, with its first characters (``prefix``) to find the row and to show
    it in the back-office; the secret itself is shown once, when the token is created. A token works only while
    its user is active and still a member of the token's partner (``partners.services.api_token_authenticate``).
    """

    PREFIX_LENGTH = 12

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nom"), max_length=100)
    prefix = models.CharField(_("début du jeton"), max_length=PREFIX_LENGTH)
    key_hash = models.CharField(max_length=64, unique=True)  # hex SHA-256 of the secret, never the secret
    created_at = models.DateTimeField(_("créé le"))
    expires_at = models.DateTimeField(_("expire le"))
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton API")
        verbose_name_plural = _("jetons API")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index("prefix", name="apitoken_prefix_idx"),  # the authentication lookup (any partner)
            models.Index(fields=["partner", "user", "-created_at"], name="apitoken_partner_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
