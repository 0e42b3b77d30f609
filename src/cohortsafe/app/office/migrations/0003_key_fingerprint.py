from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("office", "0002_reinstatement"),
    ]

    operations = [
        migrations.AddField(
            model_name="keyrecord",
            name="fingerprint",
            field=models.CharField(
                blank=True,
                help_text="One-way fingerprint of the key, recorded at creation and checked on "
                "every load.",
                max_length=64,
            ),
        ),
    ]
