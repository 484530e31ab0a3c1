"""An issued invoice never changes (issue 9 item 2): triggers refuse any UPDATE of an issued invoice other than
adding its PDF, its DELETE, any change to the lines of an issued invoice, and any change to an invoiced charge.
A correction is a credit note."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION billing_invoice_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.state = 'issued' THEN
            RAISE EXCEPTION 'billing: issued invoice % cannot be deleted', OLD.number USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.state = 'issued'
       AND (to_jsonb(NEW) - 'pdf' - 'pdf_rendered_at') IS DISTINCT FROM (to_jsonb(OLD) - 'pdf' - 'pdf_rendered_at') THEN
        RAISE EXCEPTION 'billing: issued invoice % cannot be changed (issue a credit note)', OLD.number USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_frozen BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_invoice_frozen();

CREATE OR REPLACE FUNCTION billing_invoiceline_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (SELECT 1 FROM billing_invoice WHERE id = OLD.invoice_id AND state = 'issued') THEN
        RAISE EXCEPTION 'billing: lines of issued invoice % cannot change', OLD.invoice_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND EXISTS (SELECT 1 FROM billing_invoice WHERE id = NEW.invoice_id AND state = 'issued') THEN
        RAISE EXCEPTION 'billing: lines of issued invoice % cannot change', NEW.invoice_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoiceline_frozen BEFORE INSERT OR UPDATE OR DELETE ON billing_invoiceline
    FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_frozen();

CREATE OR REPLACE FUNCTION billing_charge_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.invoice_id IS NOT NULL THEN
        RAISE EXCEPTION 'billing: charge % is invoiced and cannot change', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_charge_frozen BEFORE UPDATE OR DELETE ON billing_charge
    FOR EACH ROW EXECUTE FUNCTION billing_charge_frozen();
"""

REVERSE = """
DROP TRIGGER IF EXISTS billing_charge_frozen ON billing_charge;
DROP FUNCTION IF EXISTS billing_charge_frozen();
DROP TRIGGER IF EXISTS billing_invoiceline_frozen ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoiceline_frozen();
DROP TRIGGER IF EXISTS billing_invoice_frozen ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_frozen();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
