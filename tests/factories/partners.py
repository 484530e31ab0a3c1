import factory
from factory.django import DjangoModelFactory
from stdnum import luhn

from partners.models import ClientAccount, Partner, PartnerMembership, SelfcareAccess, Site, User


def make_siret(n: int) -> str:
    """A valid SIRET (ID-SIRET): SIREN = 8 digits + Luhn digit, then a 4-digit NIC + Luhn digit over all 14."""
    siren8 = f"{(n * 7919 + 12345678) % 10**8:08d}"
    if siren8.startswith("356"):  # La Poste SIRETs follow another rule
        siren8 = "4" + siren8[1:]
    siren = siren8 + luhn.calc_check_digit(siren8)
    body = siren + f"{n % 10000:04d}"
    return body + luhn.calc_check_digit(body)


class PartnerFactory(DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partenaire {n}")
    slug = factory.Sequence(lambda n: f"partenaire-{n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.fr")
    password = factory.PostGenerationMethodCall("set_password", "pw-test-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = PartnerMembership

    user = factory.SubFactory(UserFactory)
    partner = factory.SubFactory(PartnerFactory)
    role = PartnerMembership.Role.ADMIN


class ClientAccountFactory(DjangoModelFactory):
    class Meta:
        model = ClientAccount

    partner = factory.SubFactory(PartnerFactory)
    company_name = factory.Sequence(lambda n: f"Client {n:04d}")
    siret = factory.Sequence(make_siret)
    email = factory.Sequence(lambda n: f"client{n}@example.fr")
    last_name = "Durand"
    first_name = "Marie"


class SiteFactory(DjangoModelFactory):
    class Meta:
        model = Site

    client = factory.SubFactory(ClientAccountFactory)
    partner = factory.LazyAttribute(lambda o: o.client.partner)
    name = factory.Sequence(lambda n: f"Site {n}")


class SelfcareAccessFactory(DjangoModelFactory):
    """A client's self-care user (R-SC-1), password ``pw-test-123``; the access inherits the client's partner."""

    class Meta:
        model = SelfcareAccess

    client = factory.SubFactory(ClientAccountFactory)
    partner = factory.LazyAttribute(lambda o: o.client.partner)
    user = factory.SubFactory(UserFactory, username=factory.Sequence(lambda n: f"flotte{n}@client"))
