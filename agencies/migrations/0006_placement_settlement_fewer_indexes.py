"""Settlement marks every settled placement (rebate_period, rebate_jpy, status) and cannot be a
HOT update, so each index of the table is written again per placement. Three had no reader:
the referring company's and the partnership's key (no query selects placements by them) and
guarantee_ends_on for all placements (settlement reads the partial placement_unsettled_idx).
Without them the UPDATE of 100,000 placements costs ~40 % less CPU (bench/NOTES.md)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0005_placement_fewer_indexes"),
        ("companies", "0002_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="placement",
            name="placement_guarantee_idx",
        ),
        migrations.AlterField(
            model_name="placement",
            name="company",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The referring company, from the referral.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="companies.company",
            ),
        ),
        migrations.AlterField(
            model_name="placement",
            name="partnership",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="placements",
                to="companies.partnership",
            ),
        ),
    ]
