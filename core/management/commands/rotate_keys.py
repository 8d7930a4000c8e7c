from django.core.management.base import BaseCommand, CommandError

from core import crypto, keyrotation


class Command(BaseCommand):
    help = (
        "Seal every encrypted value and stored file again under the first ENCRYPTION_KEYS key "
        "and hash every digest under the first SEARCH_HASH_KEYS key (idempotent; resumable)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--new-key", action="store_true", help="print a fresh key and stop")
        parser.add_argument(
            "--check",
            action="store_true",
            help="report what is still sealed under an older key; fail if anything is",
        )

    def handle(self, *args, **options):
        if options["new_key"]:
            self.stdout.write(crypto.new_key())
            return
        if options["check"]:
            left = keyrotation.left_under_old_keys()
            for label, count in left.items():
                self.stdout.write(f"{label}: {count} still under an older key")
            if left:
                raise CommandError("rotation incomplete: run 'manage.py rotate_keys'")
            self.stdout.write("everything is sealed under the current key")
            return

        def progress(label: str, done: int) -> None:
            if done % 100_000 == 0:
                self.stdout.write(f"  {label}: {done}")

        rotation = keyrotation.rotate(progress)
        for label, count in rotation.values.items():
            self.stdout.write(f"{label}: {count} rows sealed and hashed under the current keys")
        self.stdout.write(
            f"files: {rotation.files} sealed again, {rotation.files_first_sealed} sealed for "
            "the first time"
        )
