# The audit chain's order is the order of sealing, kept in chain_position: an event whose
# transaction committed after a later id was sealed is chained at the next run instead of
# being left out (which verification would have reported as tampering).

from django.db import migrations, models

# As in 0005, plus: the one sealing sets the seal and the position together; and, once, the
# events sealed before this migration take their id as their position (they were chained in
# id order). Nothing else of an event ever changes.
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.occurred_at < now() - interval '183 days' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit events are kept at least six months (event %%)', OLD.id;
    END IF;
    IF NEW.id = OLD.id AND NEW.occurred_at = OLD.occurred_at
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id AND NEW.actor_name = OLD.actor_name
       AND NEW.action = OLD.action AND NEW.object_type = OLD.object_type
       AND NEW.object_id = OLD.object_id AND NEW.object_repr = OLD.object_repr
       AND NEW.region_code = OLD.region_code AND NEW.case_key = OLD.case_key
       AND NEW.from_state = OLD.from_state AND NEW.to_state = OLD.to_state
       AND NEW.reason = OLD.reason AND NEW.changes = OLD.changes
       AND OLD.chain_position IS NULL AND NEW.chain_position IS NOT NULL
       AND ((OLD.seal = '' AND NEW.seal <> '')
            OR (OLD.seal <> '' AND NEW.seal = OLD.seal AND NEW.chain_position = OLD.id)) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are never changed (event %%)', OLD.id;
END;
$$ LANGUAGE plpgsql;
"""

BACKFILL = "UPDATE core_auditevent SET chain_position = id WHERE seal <> ''"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)
    schema_editor.execute(BACKFILL)


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0005_audit_seal'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='chain_position',
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True, verbose_name='position in the chain'),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
