from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.selectors import second_factor_device
from chongqing_relief.demo import DEMO_TOTP_KEY, DEMO_TOTP_SECRET, totp_code_now


class Command(BaseCommand):
    help = (
        "Print the current second-factor code of a demo user (one whose authenticator secret "
        "is the published demo secret). Refuses any other account, and runs only with DEBUG."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("demo_otp is for the demo; it refuses to run with DJANGO_DEBUG=0.")
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r} (run seed_demo first?).")
        device = second_factor_device(user=user)
        if device is None and not user.requires_second_factor:
            raise CommandError(f"{username!r} has no second factor: the password is enough.")
        if device is None:
            raise CommandError(f"{username!r} has no second factor yet: run seed_demo again.")
        if device.key != DEMO_TOTP_KEY:
            # Its secret is not the published one: its codes belong to its owner's phone.
            raise CommandError(f"{username!r} is not a demo account: its codes are not shown.")
        now = totp_code_now(device)
        if now is None:
            raise CommandError("The current codes were already used: try again in 30 seconds.")
        code, seconds = now
        self.stdout.write(code)
        self.stderr.write(
            f"Valid for about {seconds} s more (secret {DEMO_TOTP_SECRET}); "
            "each code is taken once."
        )
