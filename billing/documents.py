"""Invoice documents: an ``InvoiceDocument`` (plain values, no database) becomes its EN 16931 Cross-Industry-Invoice
XML (Factur-X profile EN 16931) and a French PDF/A-3 with that XML embedded (Factur-X).

- ``facturx_xml(doc)``: the CII D16B XML, built with lxml (never by string concatenation).
- ``render_invoice(doc)``: ``templates/billing/invoice.html`` printed by WeasyPrint as PDF/A-3b, then the XML
  attached by the ``factur-x`` library (``factur-x.xml``, AFRelationship ``Data``, Factur-X XMP metadata); the
  library checks the XML against the profile's XSD on the way.

Both refuse (``ValueError``) a document that does not add up: every line amount is to the cent, the lines sum
to ``total_ht``, the VAT is computed per rate on the sum of its lines (EN 16931 BR-CO-17) and sums to
``total_vat``, and ``total_ttc = total_ht + total_vat``. A line's amount is not re-derived from quantity × unit
price: a pro rata quantity is printed to 4 places while its amount comes from the exact fraction.

Amounts are positive on a credit note too (type code 381 says it is a credit). ``payment_terms`` carries the
statutory French mentions (late-payment penalties, the 40 € recovery indemnity): a text that lacks them is
refused. Empty, the module's own terms are used: payment by the due date, ``LATE_PAYMENT_PENALTIES``,
``RECOVERY_INDEMNITY``, ``NO_EARLY_PAYMENT_DISCOUNT``. The XML carries them as notes with their subject codes.

WeasyPrint needs Pango at runtime (Debian ``libpango-1.0-0``, ``libpangoft2-1.0-0``, ``libharfbuzz-subset0``)
and a local font to embed (DejaVu Sans, ``fonts-dejavu-core``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

import facturx
from django.template.loader import render_to_string
from lxml import etree
from pypdf import PdfWriter
from pypdf.generic import NameObject, TextStringObject

from core.money import CENT

# --- the interface (billing/pdf.py maps issued invoices to it) -------------------------------------------------


@dataclass(frozen=True)
class Party:
    name: str
    siret: str  # 14 digits (SIREN = first 9)
    vat_number: str  # FRxx999999999
    address_lines: tuple[str, ...]
    postcode: str
    city: str
    country: str = "FR"
    email: str = ""

    @property
    def siren(self) -> str:
        return self.siret[:9]


@dataclass(frozen=True)
class DocumentLine:
    label: str
    quantity: Decimal
    unit_code: str  # UN/ECE rec 20: "C62" (unit), "MON" (month), "MIN", "MBY"…
    unit_price_ht: Decimal
    amount_ht: Decimal  # rounded to the cent
    vat_rate: Decimal  # Decimal("20.00")
    group: str = ""  # « Client X — contrat C-… » heading


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    kind: str  # "invoice" (type code 380) or "credit_note" (381)
    issue_date: dt.date
    due_date: dt.date
    period_start: dt.date
    period_end: dt.date
    issuer: Party
    customer: Party
    lines: tuple[DocumentLine, ...]
    total_ht: Decimal
    total_vat: Decimal
    total_ttc: Decimal
    currency: str = "EUR"
    preceding_invoice_number: str = ""  # a credit note's invoice
    payment_terms: str = ""  # French text incl. penalties and the 40 € indemnity ("" → the module's own)
    iban: str = ""
    notes: tuple[str, ...] = ()


INVOICE = "invoice"
CREDIT_NOTE = "credit_note"
TYPE_CODES = {INVOICE: "380", CREDIT_NOTE: "381"}

# Statutory mentions (Code de commerce L. 441-9, L. 441-10 and D. 441-5), with their UNTDID 4451 subject codes as
# the French e-invoicing rules expect them in the XML.
LATE_PAYMENT_PENALTIES = (
    "Pénalités de retard : en cas de retard de paiement, des pénalités sont exigibles de plein droit au taux "
    "d'intérêt appliqué par la Banque centrale européenne à son opération de refinancement la plus récente, "
    "majoré de 10 points de pourcentage (article L. 441-10 du Code de commerce)."
)
RECOVERY_INDEMNITY = (
    "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : 40 € (articles L. 441-10 et "
    "D. 441-5 du Code de commerce)."
)
NO_EARLY_PAYMENT_DISCOUNT = "Pas d'escompte pour paiement anticipé."
LEGAL_MENTIONS = (
    ("PMD", LATE_PAYMENT_PENALTIES),
    ("PMT", RECOVERY_INDEMNITY),
    ("AAB", NO_EARLY_PAYMENT_DISCOUNT),
)

EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
SEPA_CREDIT_TRANSFER = "58"
VAT_STANDARD_RATE = "S"
SIREN_SCHEME = "0002"

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "qdt": QDT, "udt": UDT}


# --- checks -----------------------------------------------------------------------------------------------------


def _cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_breakdown(lines: tuple[DocumentLine, ...]) -> list[tuple[Decimal, Decimal, Decimal]]:
    """``[(rate, basis, vat)]`` per VAT rate, in increasing rate order: the VAT of a rate is computed on the sum
    of its lines and rounded half-up to the cent (EN 16931 BR-CO-17)."""
    bases: dict[Decimal, Decimal] = {}
    for line in lines:
        rate = Decimal(line.vat_rate).quantize(CENT)
        bases[rate] = bases.get(rate, Decimal("0.00")) + line.amount_ht
    return [(rate, basis, _cents(basis * rate / 100)) for rate, basis in sorted(bases.items())]


def check_document(doc: InvoiceDocument) -> None:
    """Raise ``ValueError`` unless the document is complete and adds up to the cent."""
    errors: list[str] = []
    if doc.kind not in TYPE_CODES:
        errors.append(f"kind must be one of {sorted(TYPE_CODES)}, not {doc.kind!r}")
    if doc.kind == CREDIT_NOTE and not doc.preceding_invoice_number:
        errors.append("a credit note must reference the invoice it corrects (preceding_invoice_number)")
    if not doc.number:
        errors.append("the document has no number")
    if doc.currency != "EUR":
        errors.append(f"only EUR documents are supported, not {doc.currency!r}")
    if not doc.lines:
        errors.append("the document has no line")
    if doc.period_end < doc.period_start:
        errors.append("the period ends before it starts")
    if doc.due_date < doc.issue_date:
        errors.append("the due date is before the issue date")
    issuer = doc.issuer
    if not (len(issuer.siret) == 14 and issuer.siret.isdigit()):
        errors.append(f"the issuer's SIRET must be 14 digits, not {issuer.siret!r}")
    if not issuer.vat_number:
        errors.append("the issuer has no VAT number")
    customer = doc.customer
    if customer.siret and not (len(customer.siret) == 14 and customer.siret.isdigit()):
        errors.append(f"the customer's SIRET must be 14 digits, not {customer.siret!r}")
    for index, line in enumerate(doc.lines, start=1):
        if line.amount_ht != _cents(line.amount_ht):
            errors.append(f"line {index}: amount {line.amount_ht} is not rounded to the cent")
        if line.vat_rate <= 0:
            errors.append(f"line {index}: only the standard VAT category (rate > 0) is supported")
        if not line.unit_code:
            errors.append(f"line {index}: no unit code")
    if doc.payment_terms:
        if not re.search(r"pénalité", doc.payment_terms, re.IGNORECASE):
            errors.append("the payment terms do not mention the late-payment penalties")
        if not re.search(r"\b40(?:[\s\u00a0\u202f]?€|\s?euros)", doc.payment_terms):
            errors.append("the payment terms do not mention the 40 € recovery indemnity")
    lines_ht = sum((line.amount_ht for line in doc.lines), Decimal("0.00"))
    if lines_ht != doc.total_ht:
        errors.append(f"the lines add up to {lines_ht} HT, not total_ht {doc.total_ht}")
    vat = sum((amount for _, _, amount in vat_breakdown(doc.lines)), Decimal("0.00"))
    if vat != doc.total_vat:
        errors.append(f"the VAT of the lines is {vat}, not total_vat {doc.total_vat}")
    if doc.total_ht + doc.total_vat != doc.total_ttc:
        errors.append(f"total_ht + total_vat = {doc.total_ht + doc.total_vat}, not total_ttc {doc.total_ttc}")
    if errors:
        raise ValueError(f"Invoice document {doc.number!r} refused: " + "; ".join(errors))


# --- the EN 16931 CII XML ---------------------------------------------------------------------------------------


def _amount(value: Decimal) -> str:
    return f"{_cents(value):.2f}"


def _decimal(value: Decimal) -> str:
    """Quantities and unit prices: as many places as they carry (at least none), never an exponent."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text == "-0" else text


def _sub(parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}", attrib)
    if text is not None:
        element.text = text
    return element


def _date(parent: etree._Element, tag: str, value: dt.date) -> None:
    _sub(_sub(parent, RAM, tag), UDT, "DateTimeString", value.strftime("%Y%m%d"), format="102")


def _party(parent: etree._Element, tag: str, party: Party) -> None:
    node = _sub(parent, RAM, tag)
    _sub(node, RAM, "Name", party.name)
    if party.siret:
        _sub(_sub(node, RAM, "SpecifiedLegalOrganization"), RAM, "ID", party.siren, schemeID=SIREN_SCHEME)
    address = _sub(node, RAM, "PostalTradeAddress")
    if party.postcode:
        _sub(address, RAM, "PostcodeCode", party.postcode)
    for tag_name, line in zip(("LineOne", "LineTwo", "LineThree"), party.address_lines, strict=False):
        _sub(address, RAM, tag_name, line)
    if party.city:
        _sub(address, RAM, "CityName", party.city)
    _sub(address, RAM, "CountryID", party.country)
    if party.email:
        _sub(_sub(node, RAM, "URIUniversalCommunication"), RAM, "URIID", party.email, schemeID="EM")
    if party.vat_number:
        _sub(_sub(node, RAM, "SpecifiedTaxRegistration"), RAM, "ID", party.vat_number, schemeID="VA")


def _trade_tax(
    parent: etree._Element, rate: Decimal, basis: Decimal | None = None, vat: Decimal | None = None
):
    tax = _sub(parent, RAM, "ApplicableTradeTax")
    if vat is not None:
        _sub(tax, RAM, "CalculatedAmount", _amount(vat))
    _sub(tax, RAM, "TypeCode", "VAT")
    if basis is not None:
        _sub(tax, RAM, "BasisAmount", _amount(basis))
    _sub(tax, RAM, "CategoryCode", VAT_STANDARD_RATE)
    _sub(tax, RAM, "RateApplicablePercent", f"{rate:.2f}")


def payment_terms_text(doc: InvoiceDocument) -> str:
    return doc.payment_terms or f"Paiement par virement au plus tard le {doc.due_date:%d/%m/%Y}."


def legal_mentions(doc: InvoiceDocument) -> tuple[tuple[str, str], ...]:
    """(UNTDID 4451 subject code, text) of the mentions: the caller's terms, or the module's own."""
    if doc.payment_terms:
        return (("PMT", doc.payment_terms),)
    return LEGAL_MENTIONS


def facturx_xml(doc: InvoiceDocument) -> bytes:
    """The document as EN 16931 Cross-Industry-Invoice (D16B) XML, Factur-X profile EN 16931, UTF-8."""
    check_document(doc)
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)

    context = _sub(root, RSM, "ExchangedDocumentContext")
    _sub(_sub(context, RAM, "GuidelineSpecifiedDocumentContextParameter"), RAM, "ID", EN16931_GUIDELINE)

    header = _sub(root, RSM, "ExchangedDocument")
    _sub(header, RAM, "ID", doc.number)
    _sub(header, RAM, "TypeCode", TYPE_CODES[doc.kind])
    _date(header, "IssueDateTime", doc.issue_date)
    for note in doc.notes:
        _sub(_sub(header, RAM, "IncludedNote"), RAM, "Content", note)
    for subject, text in legal_mentions(doc):
        note = _sub(header, RAM, "IncludedNote")
        _sub(note, RAM, "Content", text)
        _sub(note, RAM, "SubjectCode", subject)

    transaction = _sub(root, RSM, "SupplyChainTradeTransaction")
    for index, line in enumerate(doc.lines, start=1):
        item = _sub(transaction, RAM, "IncludedSupplyChainTradeLineItem")
        line_doc = _sub(item, RAM, "AssociatedDocumentLineDocument")
        _sub(line_doc, RAM, "LineID", str(index))
        if line.group:
            _sub(_sub(line_doc, RAM, "IncludedNote"), RAM, "Content", line.group)
        _sub(_sub(item, RAM, "SpecifiedTradeProduct"), RAM, "Name", line.label)
        agreement = _sub(item, RAM, "SpecifiedLineTradeAgreement")
        price = _sub(agreement, RAM, "NetPriceProductTradePrice")
        _sub(price, RAM, "ChargeAmount", _decimal(line.unit_price_ht))
        delivery = _sub(item, RAM, "SpecifiedLineTradeDelivery")
        _sub(delivery, RAM, "BilledQuantity", _decimal(line.quantity), unitCode=line.unit_code)
        settlement = _sub(item, RAM, "SpecifiedLineTradeSettlement")
        _trade_tax(settlement, Decimal(line.vat_rate))
        summation = _sub(settlement, RAM, "SpecifiedTradeSettlementLineMonetarySummation")
        _sub(summation, RAM, "LineTotalAmount", _amount(line.amount_ht))

    agreement = _sub(transaction, RAM, "ApplicableHeaderTradeAgreement")
    _party(agreement, "SellerTradeParty", doc.issuer)
    _party(agreement, "BuyerTradeParty", doc.customer)

    _sub(transaction, RAM, "ApplicableHeaderTradeDelivery")

    settlement = _sub(transaction, RAM, "ApplicableHeaderTradeSettlement")
    _sub(settlement, RAM, "InvoiceCurrencyCode", doc.currency)
    if doc.iban and doc.kind == INVOICE:  # a credit note is not paid to its issuer
        means = _sub(settlement, RAM, "SpecifiedTradeSettlementPaymentMeans")
        _sub(means, RAM, "TypeCode", SEPA_CREDIT_TRANSFER)
        account = _sub(means, RAM, "PayeePartyCreditorFinancialAccount")
        _sub(account, RAM, "IBANID", doc.iban.replace(" ", ""))
    for rate, basis, vat in vat_breakdown(doc.lines):
        _trade_tax(settlement, rate, basis=basis, vat=vat)
    period = _sub(settlement, RAM, "BillingSpecifiedPeriod")
    _date(period, "StartDateTime", doc.period_start)
    _date(period, "EndDateTime", doc.period_end)
    terms = _sub(settlement, RAM, "SpecifiedTradePaymentTerms")
    _sub(terms, RAM, "Description", payment_terms_text(doc))
    _date(terms, "DueDateDateTime", doc.due_date)
    totals = _sub(settlement, RAM, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(totals, RAM, "LineTotalAmount", _amount(doc.total_ht))
    _sub(totals, RAM, "TaxBasisTotalAmount", _amount(doc.total_ht))
    _sub(totals, RAM, "TaxTotalAmount", _amount(doc.total_vat), currencyID=doc.currency)
    _sub(totals, RAM, "GrandTotalAmount", _amount(doc.total_ttc))
    _sub(totals, RAM, "DuePayableAmount", _amount(doc.total_ttc))
    if doc.preceding_invoice_number:
        referenced = _sub(settlement, RAM, "InvoiceReferencedDocument")
        _sub(referenced, RAM, "IssuerAssignedID", doc.preceding_invoice_number)

    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- the PDF ----------------------------------------------------------------------------------------------------


def format_eur(value: Decimal) -> str:
    """French amount: ``Decimal("1234.5")`` → ``1 234,50 €`` (narrow no-break space between thousands, no-break
    space before the sign)."""
    text = f"{_cents(value):,.2f}"
    return text.replace(",", "\u202f").replace(".", ",") + "\u00a0€"


def format_quantity(value: Decimal) -> str:
    """``1234`` → ``1 234``, ``0.5`` → ``0,5``."""
    return format(Decimal(value).normalize(), ",f").replace(",", "\u202f").replace(".", ",")


def format_rate(value: Decimal) -> str:
    """``20.00`` → ``20 %``, ``5.50`` → ``5,5 %``."""
    return _decimal(value).replace(".", ",") + "\u00a0%"


def _format_unit_price(value: Decimal) -> str:
    """Unit prices keep up to 4 places (usage rates such as 0,0125 €), at least 2."""
    value = Decimal(value)
    places = min(4, max(2, -int(value.normalize().as_tuple().exponent)))
    text = f"{value:,.{places}f}"
    return text.replace(",", "\u202f").replace(".", ",") + "\u00a0€"


UNIT_LABELS = {
    "C62": "unité",
    "MON": "mois",
    "MIN": "min",
    "SEC": "s",
    "MBY": "Mo",
    "GBY": "Go",
    "DAY": "jour",
}


def _context(doc: InvoiceDocument) -> dict:
    groups: dict[str, list[dict]] = {}
    for line in doc.lines:
        groups.setdefault(line.group, []).append(
            {
                "label": line.label,
                "quantity": format_quantity(line.quantity),
                "unit": UNIT_LABELS.get(line.unit_code, line.unit_code),
                "unit_price": _format_unit_price(line.unit_price_ht),
                "amount": format_eur(line.amount_ht),
                "vat_rate": format_rate(line.vat_rate),
            }
        )
    return {
        "doc": doc,
        "title": "Avoir" if doc.kind == CREDIT_NOTE else "Facture",
        "groups": list(groups.items()),
        "vat_rows": [
            {"rate": format_rate(rate), "basis": format_eur(basis), "vat": format_eur(vat)}
            for rate, basis, vat in vat_breakdown(doc.lines)
        ],
        "total_ht": format_eur(doc.total_ht),
        "total_vat": format_eur(doc.total_vat),
        "total_ttc": format_eur(doc.total_ttc),
        "payment_terms": payment_terms_text(doc),
        "iban": ""
        if doc.kind == CREDIT_NOTE
        else " ".join(
            doc.iban.replace(" ", "")[i : i + 4] for i in range(0, len(doc.iban.replace(" ", "")), 4)
        ),
        "legal_mentions": [] if doc.payment_terms else [text for _, text in LEGAL_MENTIONS],
    }


def invoice_html(doc: InvoiceDocument) -> str:
    return render_to_string("billing/invoice.html", _context(doc))


def render_invoice(doc: InvoiceDocument) -> bytes:
    """The document as a Factur-X PDF: PDF/A-3b printed from ``billing/invoice.html``, with its EN 16931 XML
    embedded as ``factur-x.xml`` (checked against the profile's XSD by the factur-x library)."""
    from weasyprint import HTML  # imported here: it loads Pango, which only the PDF needs

    xml = facturx_xml(doc)  # checks the document first
    pdf = HTML(string=invoice_html(doc)).write_pdf(pdf_variant="pdf/a-3b")
    title = f"{'Avoir' if doc.kind == CREDIT_NOTE else 'Facture'} N° {doc.number}"
    facturx_pdf = facturx.generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata={
            "author": doc.issuer.name,
            "keywords": "Factur-X, facture",
            "title": f"{doc.issuer.name} : {title}",
            "subject": f"{title} du {doc.issue_date:%d/%m/%Y} émise par {doc.issuer.name} pour {doc.customer.name}",
        },
        lang="fr-FR",
    )
    return _info_as_xmp(facturx_pdf)


def _info_as_xmp(pdf: bytes) -> bytes:
    """PDF/A wants the document information dictionary to agree with the XMP metadata (ISO 19005-3 § 6.6.2.3).
    factur-x replaces the XMP (``pdf:Producer`` « pypdf », no ``pdf:Keywords``) but keeps WeasyPrint's
    ``/Producer`` and adds a ``/Keywords``: both are aligned in an incremental update (the pages, fonts, output
    intent, file identifier and the embedded XML stay byte for byte)."""
    writer = PdfWriter(BytesIO(pdf), incremental=True)
    info = writer._info.get_object()  # pypdf has no public way to drop one entry
    xmp_producer = writer.xmp_metadata.pdf_producer or ""
    info[NameObject("/Producer")] = TextStringObject(xmp_producer)
    info.pop("/Keywords", None)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
