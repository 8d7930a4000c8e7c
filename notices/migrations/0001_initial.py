"""Notices and objections, moved with their rows from ``applications`` (see its migration
0016)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('applications', '0016_split_notices_and_reviews'),
        ('recertification', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The tables were renamed by applications 0016; only Django's state moves here.
    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Objection',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('text', models.TextField(verbose_name='objection')),
                        ('name', models.CharField(blank=True, max_length=64, verbose_name='name (optional)')),
                        ('contact', models.CharField(blank=True, max_length=64, verbose_name='contact (optional)')),
                        ('received_at', models.DateTimeField(auto_now_add=True, verbose_name='received at')),
                        ('status', models.CharField(choices=[('open', 'Open'), ('reinvestigating', 'Being re-investigated'), ('resolved', 'Resolved')], default='open', max_length=16, verbose_name='status')),
                        ('resolution', models.TextField(blank=True, verbose_name='resolution')),
                        ('resolved_at', models.DateTimeField(blank=True, null=True, verbose_name='resolved at')),
                    ],
                    options={
                        'verbose_name': 'objection',
                        'verbose_name_plural': 'objections',
                        'ordering': ['received_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Notice',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('approval', 'Pre-approval notice'), ('termination', 'Termination notice')], max_length=12, verbose_name='kind')),
                        ('status', models.CharField(choices=[('open', 'Posted'), ('closed', 'Period ended'), ('withdrawn', 'Taken down for re-investigation')], default='open', max_length=12, verbose_name='status')),
                        ('starts_on', models.DateField(verbose_name='posted on')),
                        ('ends_on', models.DateField(verbose_name='last day')),
                        ('village_code', models.CharField(db_index=True, max_length=12, verbose_name='village code')),
                        ('masked_name', models.CharField(max_length=16, verbose_name='name (masked)')),
                        ('household_size', models.PositiveSmallIntegerField(verbose_name='household size')),
                        ('programme', models.CharField(choices=[('dibao', 'Minimum living allowance (低保)'), ('tekun', 'Support for persons in extreme poverty (特困)'), ('temporary', 'Temporary assistance (临时救助)'), ('expenditure', 'Rigid-expenditure hardship (支出型贫困)')], max_length=16, verbose_name='programme')),
                        ('amount', models.DecimalField(decimal_places=2, max_digits=10, verbose_name='monthly amount')),
                        ('application', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notices', to='applications.application', verbose_name='case')),
                    ],
                    options={
                        'verbose_name': 'public notice',
                        'verbose_name_plural': 'public notices',
                        'ordering': ['-starts_on', 'id'],
                    },
                ),
                migrations.AddField(
                    model_name='notice',
                    name='review',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='notices', to='recertification.review', verbose_name='review'),
                ),
                migrations.AddField(
                    model_name='objection',
                    name='application',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='objections', to='applications.application', verbose_name='case'),
                ),
                migrations.AddField(
                    model_name='objection',
                    name='notice',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='objections', to='notices.notice', verbose_name='notice'),
                ),
                migrations.AddField(
                    model_name='objection',
                    name='resolved_by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='resolved by'),
                ),
                migrations.AddConstraint(
                    model_name='notice',
                    constraint=models.CheckConstraint(condition=models.Q(('ends_on__gte', models.F('starts_on'))), name='notice_ends_after_start'),
                ),
                migrations.AddConstraint(
                    model_name='notice',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('application__isnull', False), ('review__isnull', True)), models.Q(('application__isnull', True), ('review__isnull', False)), _connector='OR'), name='notice_for_an_application_or_a_review'),
                ),
            ],
        ),
    ]
