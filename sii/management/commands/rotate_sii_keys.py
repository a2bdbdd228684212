"""python manage.py rotate_sii_keys: re-encrypt every company's SII password under SII_CREDENTIALS_KEY."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sii.models import Company
from sii.services.key_rotation import company_passwords_rotate

SHOWN = 20  # unreadable companies named in the error; the rest are counted


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored SII password under SII_CREDENTIALS_KEY (those an old key in "
        "SII_CREDENTIALS_OLD_KEYS encrypted); running it again changes nothing. README "
        '"Rotating the SII credentials key".'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500, help="Companies read per batch.")

    def handle(self, *args, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        outcome = company_passwords_rotate(batch_size=batch_size)
        self.stdout.write(
            f"Re-encrypted {outcome.rotated} SII password(s) under SII_CREDENTIALS_KEY; "
            f"{outcome.current} already were."
        )
        if outcome.unreadable:
            raise CommandError(_unreadable_message(outcome.unreadable))


def _unreadable_message(companies: list[Company]) -> str:
    names = "; ".join(str(company) for company in companies[:SHOWN])
    more = f"; and {len(companies) - SHOWN} more" if len(companies) > SHOWN else ""
    return (
        f"{len(companies)} SII password(s) cannot be decrypted with SII_CREDENTIALS_KEY or "
        f"SII_CREDENTIALS_OLD_KEYS, and were left as they are: {names}{more}. Add the key that "
        "encrypted them to SII_CREDENTIALS_OLD_KEYS and run this again, or enter those claves "
        "again in the admin. Keep the old keys until this succeeds."
    )
