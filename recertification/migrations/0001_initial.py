"""Periodic reviews, moved with their rows from ``applications`` (see its migration 0016)."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('applications', '0016_split_notices_and_reviews'),
        ('beneficiaries', '0007_change_superseded'),
        ('eligibility', '0007_dynamic_limits'),
        ('regions', '0002_office_contact'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables were renamed by applications 0016; only Django's state moves here.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HistoricalReview',
                    fields=[
                        ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('periodic', 'Periodic review'), ('reported', 'Change reported by the household')], max_length=12, verbose_name='kind')),
                        ('opened_at', models.DateTimeField(verbose_name='opened at')),
                        ('due', models.DateField(verbose_name='due')),
                        ('reported_change', models.TextField(blank=True, verbose_name='change reported')),
                        ('status', models.CharField(choices=[('open', 'Open'), ('noticed', 'Termination notice'), ('district', 'Termination awaiting the district'), ('decided', 'Decided')], default='open', max_length=12, verbose_name='status')),
                        ('visited_on', models.DateField(blank=True, null=True, verbose_name='home visit or declaration on')),
                        ('findings', models.TextField(blank=True, verbose_name='what the visit or declaration showed')),
                        ('outcome', models.CharField(blank=True, choices=[('continue', 'Continue unchanged'), ('adjust', 'Adjust the amount or class'), ('suspend', 'Suspend'), ('resume', 'Resume payment'), ('terminate', 'Terminate (after a public notice)')], max_length=12, verbose_name='outcome')),
                        ('new_amount', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True, verbose_name='new monthly amount')),
                        ('new_class', models.CharField(blank=True, max_length=1, verbose_name='new class')),
                        ('reason', models.TextField(blank=True, verbose_name='reason')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided at')),
                        ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                        ('history_id', models.AutoField(primary_key=True, serialize=False)),
                        ('history_date', models.DateTimeField(db_index=True)),
                        ('history_change_reason', models.CharField(max_length=100, null=True)),
                        ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                        ('assessment', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='eligibility.assessment', verbose_name='assessment')),
                        ('decided_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                        ('entitlement', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='beneficiaries.entitlement', verbose_name='entitlement')),
                        ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('township', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='regions.region', verbose_name='township')),
                        ('visit_recorded_by', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='visit recorded by')),
                    ],
                    options={
                        'verbose_name': 'historical review',
                        'verbose_name_plural': 'historical reviews',
                        'ordering': ('-history_date', '-history_id'),
                        'get_latest_by': ('history_date', 'history_id'),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name='Review',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('periodic', 'Periodic review'), ('reported', 'Change reported by the household')], max_length=12, verbose_name='kind')),
                        ('opened_at', models.DateTimeField(verbose_name='opened at')),
                        ('due', models.DateField(verbose_name='due')),
                        ('reported_change', models.TextField(blank=True, verbose_name='change reported')),
                        ('status', models.CharField(choices=[('open', 'Open'), ('noticed', 'Termination notice'), ('district', 'Termination awaiting the district'), ('decided', 'Decided')], default='open', max_length=12, verbose_name='status')),
                        ('visited_on', models.DateField(blank=True, null=True, verbose_name='home visit or declaration on')),
                        ('findings', models.TextField(blank=True, verbose_name='what the visit or declaration showed')),
                        ('outcome', models.CharField(blank=True, choices=[('continue', 'Continue unchanged'), ('adjust', 'Adjust the amount or class'), ('suspend', 'Suspend'), ('resume', 'Resume payment'), ('terminate', 'Terminate (after a public notice)')], max_length=12, verbose_name='outcome')),
                        ('new_amount', models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True, verbose_name='new monthly amount')),
                        ('new_class', models.CharField(blank=True, max_length=1, verbose_name='new class')),
                        ('reason', models.TextField(blank=True, verbose_name='reason')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided at')),
                        ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                        ('assessment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='eligibility.assessment', verbose_name='assessment')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                        ('entitlement', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to='beneficiaries.entitlement', verbose_name='entitlement')),
                        ('township', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='regions.region', verbose_name='township')),
                        ('visit_recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='visit recorded by')),
                    ],
                    options={
                        'verbose_name': 'review',
                        'verbose_name_plural': 'reviews',
                        'ordering': ['due', 'id'],
                        'indexes': [models.Index(fields=['township', 'status', 'due'], name='review_queue_idx')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status__in', ['open', 'noticed', 'district'])), fields=('entitlement',), name='review_one_open_per_entitlement'), models.CheckConstraint(condition=models.Q(('new_amount__isnull', True), ('new_amount__gte', 0), _connector='OR'), name='review_amount_not_negative')],
                    },
                ),
            ],
        ),
    ]
