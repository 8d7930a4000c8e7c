from django.core.management.base import BaseCommand

from chongqing_relief.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Load demo data (regions, calendar, one user per role). Safe to run again."

    def handle(self, *args, **options):
        users = demo_seed()
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, region, created in users:
            self.stdout.write(
                f"  {username:<18} {role} · {region}{'' if created else ' (existed)'}"
            )
