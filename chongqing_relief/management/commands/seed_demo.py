from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chongqing_relief.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, demo_seed


class Command(BaseCommand):
    help = "Load demo data (regions, calendar, one user per role). Safe to run again."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates users with a published password; it refuses "
                "to run with DJANGO_DEBUG=0."
            )
        users = demo_seed()
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, region, created in users:
            self.stdout.write(
                f"  {username:<18} {role} · {region}{'' if created else ' (existed)'}"
            )
        self.stdout.write(
            "Second factor (district_approver, district_finance, city_admin): after the "
            "password, type the code of `python manage.py demo_otp <username>`, or add the "
            f"secret {DEMO_TOTP_SECRET} to an authenticator app."
        )
