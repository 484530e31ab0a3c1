"""Factur-X documents (issue 9, « Formats »): the EN 16931 CII XML validates against the Factur-X EN 16931 XSD
and carries the document's amounts; the PDF is PDF/A-3 with that XML embedded and the French mentions printed.

Pure functions: no database (the Django settings only serve the template engine)."""

import dataclasses
import datetime as dt
import io
import re
from decimal import Decimal

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from billing.documents import (
    DocumentLine,
    InvoiceDocument,
    Party,
    facturx_xml,
    format_eur,
    render_invoice,
)

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}

ALPHALINK = Party(
    name="AlphaLink SAS",
    siret="73282932000074",
    vat_number="FR44732829320",
    address_lines=("12 rue de la Paix", "Bâtiment B"),
    postcode="75002",
    city="Paris",
    email="facturation@alphalink.example",
)
PARTNER = Party(
    name="Telcom Pro",
    siret="55208131766522",
    vat_number="FR40552081317",
    address_lines=("3 avenue des Champs",),
    postcode="69003",
    city="Lyon",
)


def line(label, quantity, unit_code, unit_price, amount, group=""):
    return DocumentLine(
        label=label,
        quantity=Decimal(quantity),
        unit_code=unit_code,
        unit_price_ht=Decimal(unit_price),
        amount_ht=Decimal(amount),
        vat_rate=Decimal("20.00"),
        group=group,
    )


LINES = (
    # R-CON-4 pro rata: live on 16 November on an 8 € plan → 15/30 × 8 = 4.00 € HT
    line(
        "Forfait Pro 8 € — novembre (prorata 15/30)",
        "0.5",
        "MON",
        "8.00",
        "4.00",
        "Boulangerie Martin — C-0001",
    ),
    line("Option Roaming Europe", "1", "MON", "3.00", "3.00", "Boulangerie Martin — C-0001"),
    line("Frais d'accès eSIM", "1", "C62", "1.50", "1.50", "Boulangerie Martin — C-0001"),
    line("Appels hors forfait", "1234", "MIN", "0.0125", "15.43", "Garage Petit — C-0002"),
    line("Forfait Data 100 Go", "1", "MON", "1229.99", "1229.99", "Garage Petit — C-0002"),
)


def make_doc(**changes):
    total_ht = sum((item.amount_ht for item in changes.get("lines", LINES)), Decimal("0.00"))
    total_vat = (total_ht * Decimal("0.20")).quantize(Decimal("0.01"))
    values = {
        "number": "FA-2025-000042",
        "kind": "invoice",
        "issue_date": dt.date(2025, 12, 1),
        "due_date": dt.date(2025, 12, 31),
        "period_start": dt.date(2025, 11, 1),
        "period_end": dt.date(2025, 11, 30),
        "issuer": ALPHALINK,
        "customer": PARTNER,
        "lines": LINES,
        "total_ht": total_ht,
        "total_vat": total_vat,
        "total_ttc": total_ht + total_vat,
        "payment_terms": "",
        "iban": "FR76 3000 6000 0112 3456 7890 189",
    }
    values.update(changes)
    return InvoiceDocument(**values)


def credit_note():
    lines = (
        line("Forfait Pro 8 € — novembre, résiliation", "1", "MON", "8.00", "8.00", "Garage Petit — C-0002"),
    )
    return make_doc(
        number="AV-2025-000003", kind="credit_note", lines=lines, preceding_invoice_number="FA-2025-000042"
    )


def parse(xml: bytes):
    return etree.fromstring(xml)


def text(root, path):
    return root.xpath(f"string({path})", namespaces=NS)


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    content = "\n".join(page.extract_text() for page in reader.pages)
    return content.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture(scope="module")
def invoice_pdf():
    return render_invoice(make_doc())


# --- XML --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("doc", [make_doc(), credit_note()], ids=["invoice", "credit_note"])
def test_xml_validates_against_the_facturx_en16931_xsd(doc):
    xml = facturx_xml(doc)

    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert facturx.get_level(parse(xml), flavor="factur-x") == "en16931"
    assert (
        text(parse(xml), "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
        == "urn:cen.eu:en16931:2017"
    )


def test_xml_amounts_are_the_documents_and_add_up():
    doc = make_doc()

    root = parse(facturx_xml(doc))

    line_totals = [
        Decimal(t)
        for t in root.xpath(
            "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount/text()", namespaces=NS
        )
    ]
    assert line_totals == [item.amount_ht for item in doc.lines]
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert Decimal(text(root, f"{summation}/ram:LineTotalAmount")) == sum(line_totals) == doc.total_ht
    assert Decimal(text(root, f"{summation}/ram:TaxBasisTotalAmount")) == doc.total_ht
    assert Decimal(text(root, f"{summation}/ram:TaxTotalAmount")) == doc.total_vat
    assert text(root, f"{summation}/ram:TaxTotalAmount/@currencyID") == "EUR"
    assert Decimal(text(root, f"{summation}/ram:GrandTotalAmount")) == doc.total_ttc
    assert Decimal(text(root, f"{summation}/ram:DuePayableAmount")) == doc.total_ttc
    header_tax = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    assert Decimal(text(root, f"{header_tax}/ram:BasisAmount")) == doc.total_ht
    assert Decimal(text(root, f"{header_tax}/ram:CalculatedAmount")) == doc.total_vat
    assert text(root, f"{header_tax}/ram:CategoryCode") == "S"
    assert text(root, f"{header_tax}/ram:RateApplicablePercent") == "20.00"
    # the 1234 minutes at 0.0125 € keep their 4-place price and unit code
    usage = root.xpath("//ram:IncludedSupplyChainTradeLineItem[4]", namespaces=NS)[0]
    assert text(usage, ".//ram:NetPriceProductTradePrice/ram:ChargeAmount") == "0.0125"
    assert text(usage, ".//ram:BilledQuantity") == "1234"
    assert text(usage, ".//ram:BilledQuantity/@unitCode") == "MIN"


def test_xml_header_parties_dates_and_payment():
    root = parse(facturx_xml(make_doc()))

    assert text(root, "//rsm:ExchangedDocument/ram:ID") == "FA-2025-000042"
    assert text(root, "//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert text(root, "//ram:IssueDateTime/udt:DateTimeString") == "20251201"
    assert text(root, "//ram:IssueDateTime/udt:DateTimeString/@format") == "102"
    seller = "//ram:SellerTradeParty"
    assert text(root, f"{seller}/ram:SpecifiedLegalOrganization/ram:ID") == "732829320"
    assert text(root, f"{seller}/ram:SpecifiedLegalOrganization/ram:ID/@schemeID") == "0002"
    assert text(root, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "FR44732829320"
    assert text(root, f"{seller}/ram:PostalTradeAddress/ram:CountryID") == "FR"
    assert text(root, "//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID") == "552081317"
    assert text(root, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == "58"
    assert text(root, "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == "FR7630006000011234567890189"
    assert text(root, "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString") == "20251231"
    assert text(root, "//ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString") == "20251101"
    assert text(root, "//ram:BillingSpecifiedPeriod/ram:EndDateTime/udt:DateTimeString") == "20251130"
    notes = {
        n.findtext(f"{{{NS['ram']}}}SubjectCode"): n.findtext(f"{{{NS['ram']}}}Content")
        for n in root.xpath("//rsm:ExchangedDocument/ram:IncludedNote", namespaces=NS)
    }
    assert "40 €" in notes["PMT"]
    assert "Pénalités de retard" in notes["PMD"]


def test_credit_note_has_type_code_381_and_references_its_invoice():
    root = parse(facturx_xml(credit_note()))

    assert text(root, "//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert text(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == "FA-2025-000042"
    assert not root.xpath(
        "//ram:SpecifiedTradeSettlementPaymentMeans", namespaces=NS
    )  # nothing to pay to the issuer


def test_credit_note_without_its_invoice_is_refused():
    with pytest.raises(ValueError, match="preceding_invoice_number"):
        facturx_xml(dataclasses.replace(credit_note(), preceding_invoice_number=""))


def test_special_characters_in_names_are_escaped_in_the_xml():
    customer = dataclasses.replace(
        PARTNER, name="Dupont & Fils <SARL>", address_lines=('2 rue "Les Lilas" & Co',)
    )

    xml = facturx_xml(make_doc(customer=customer))

    assert b"Dupont &amp; Fils &lt;SARL&gt;" in xml
    assert text(parse(xml), "//ram:BuyerTradeParty/ram:Name") == "Dupont & Fils <SARL>"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")


# --- refusals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"total_ht": Decimal("1254.00")}, "lines add up to 1253.92 HT"),
        ({"total_vat": Decimal("250.79")}, "VAT of the lines is 250.78"),
        ({"total_ttc": Decimal("1504.71")}, "not total_ttc 1504.71"),
        (
            {"lines": (line("Forfait", "1", "MON", "8.00", "7.995"),), "total_ht": Decimal("7.995")},
            "not rounded",
        ),
        (
            {"payment_terms": "Paiement à 30 jours. Pénalités de retard : 3 fois le taux légal."},
            "40 € recovery",
        ),
        (
            {"payment_terms": "Paiement à 30 jours, indemnité de 40 € pour frais de recouvrement."},
            "penalties",
        ),
        ({"kind": "quote"}, "kind must be one of"),
    ],
    ids=["total_ht", "total_vat", "total_ttc", "line_amount", "kind", "terms_no_40", "terms_no_penalties"],
)
def test_document_that_does_not_add_up_is_refused(changes, message):
    doc = make_doc(**changes)

    with pytest.raises(ValueError, match=message):
        render_invoice(doc)


# --- PDF --------------------------------------------------------------------------------------------------------


def test_pdf_is_pdfa3_with_the_facturx_xml_embedded(invoice_pdf):
    doc = make_doc()

    assert invoice_pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(invoice_pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"pdfaid:part(>|=\")3", xmp), xmp
    assert re.search(r"pdfaid:conformance(>|=\")B", xmp), xmp
    assert "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in xmp
    assert re.search(r"fx:ConformanceLevel(>|=\")EN 16931", xmp), xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    # PDF/A: the information dictionary agrees with the XMP
    assert reader.metadata["/Producer"] == reader.xmp_metadata.pdf_producer
    assert reader.metadata["/Creator"] == reader.xmp_metadata.xmp_creator_tool
    assert "/Keywords" not in reader.metadata
    assert reader.metadata["/Title"] == "AlphaLink SAS : Facture N° FA-2025-000042"
    filename, xml = facturx.get_facturx_xml_from_pdf(invoice_pdf, check_xsd=True)
    assert filename == "factur-x.xml"
    assert xml == facturx_xml(doc)


def test_pdf_fonts_are_embedded(invoice_pdf):
    reader = PdfReader(io.BytesIO(invoice_pdf))
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]

    assert fonts
    for font in fonts:
        descendants = font.get("/DescendantFonts")
        descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"]
        assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_pdf_prints_the_french_mentions_and_amounts(invoice_pdf):
    content = pdf_text(invoice_pdf)

    assert "Facture N° FA-2025-000042" in content
    assert "SIRET : 73282932000074" in content
    assert "SIREN : 732829320" in content
    assert "FR44732829320" in content
    assert "40 €" in content
    assert "Pénalités de retard" in content
    assert "IBAN : FR76 3000 6000 0112 3456 7890 189" in content
    assert "Boulangerie Martin — C-0001" in content
    assert "1 229,99 €" in content  # a line
    assert "1 504,70 €" in content  # the TTC total
    assert "1 234 min" in content
    assert "Page 1 / 1" in content


def test_credit_note_pdf_says_avoir_and_its_invoice():
    content = pdf_text(render_invoice(credit_note()))

    assert "Avoir N° AV-2025-000003" in content
    assert "Avoir relatif à la facture N° FA-2025-000042" in content


def test_special_characters_in_names_are_printed_as_text():
    customer = dataclasses.replace(PARTNER, name="Dupont & Fils <SARL>")

    content = pdf_text(render_invoice(make_doc(customer=customer)))

    assert "Dupont & Fils <SARL>" in content


def test_format_eur_is_french():
    assert format_eur(Decimal("1234.5")) == "1\u202f234,50\u00a0€"
    assert format_eur(Decimal("0")) == "0,00\u00a0€"
    assert format_eur(Decimal("-1234567.891")) == "-1\u202f234\u202f567,89\u00a0€"


def test_caller_payment_terms_replace_the_default_mentions_once():
    terms = (
        "Paiement à 30 jours. En cas de retard de paiement : pénalités au taux de 3 fois le taux d'intérêt légal, "
        "et indemnité forfaitaire pour frais de recouvrement de 40 € (art. L441-10 et D441-5 du Code de commerce)."
    )
    doc = make_doc(payment_terms=terms)

    root = parse(facturx_xml(doc))
    content = pdf_text(render_invoice(doc))

    assert text(root, "//ram:SpecifiedTradePaymentTerms/ram:Description") == terms
    assert text(root, "//rsm:ExchangedDocument/ram:IncludedNote[ram:SubjectCode='PMT']/ram:Content") == terms
    assert (
        "Banque centrale" not in content
    )  # the module's default penalty rate does not contradict the caller's
    assert content.count("40 €") == 1
