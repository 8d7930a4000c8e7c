"""Notices and objections move to the ``notices`` app, periodic reviews to ``recertification``
(DESIGN.md §12). The tables are renamed and kept with every row; the models leave this app's
state here and enter the new apps' state in their first migrations."""

from django.db import migrations

MOVED_TABLES = {
    "notice": "notices_notice",
    "objection": "notices_objection",
    "review": "recertification_review",
    "historicalreview": "recertification_historicalreview",
}


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0015_review_visit_recorder"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name=model, table=table)
                for model, table in MOVED_TABLES.items()
            ],
            state_operations=[
                # Referrers first: an objection points at a notice, a notice at a review.
                migrations.DeleteModel(name="Objection"),
                migrations.DeleteModel(name="Notice"),
                migrations.DeleteModel(name="HistoricalReview"),
                migrations.DeleteModel(name="Review"),
            ],
        ),
    ]
