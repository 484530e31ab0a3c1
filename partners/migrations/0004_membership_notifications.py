from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0003_selfcare_access_theme"),
    ]

    operations = [
        migrations.AddField(
            model_name="partnermembership",
            name="notify_selfcare_orders",
            field=models.BooleanField(default=True, verbose_name="Commande selfcare"),
        ),
        migrations.AddField(
            model_name="partnermembership",
            name="notify_usage_alerts",
            field=models.BooleanField(default=True, verbose_name="Alertes de consommation"),
        ),
    ]
