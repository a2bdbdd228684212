"""The rehearsal's companies: valid RUTs, a clave each (encrypted as the admin stores it), subscribed."""

from datetime import timedelta

from django.utils import timezone

FIRST_RUT = 76_000_000


def companies_create(*, count: int) -> list[str]:
    """`count` companies the nightly documents sync covers; their ids."""
    from sii import crypto
    from sii.models import Company, Subscription
    from sii.rut import check_digit

    clave = crypto.encrypt("rehearsal-clave")  # the simulator takes any clave but "wrong"
    companies = [
        Company(name=f"Empresa {n:05d}", rut_body=FIRST_RUT + n, rut_dv=check_digit(FIRST_RUT + n),
                sii_password_encrypted=clave)
        for n in range(count)
    ]  # fmt: skip
    Company.objects.bulk_create(companies, batch_size=2000)
    since = timezone.localdate() - timedelta(days=1)
    Subscription.objects.bulk_create(
        (Subscription(company=company, starts_on=since) for company in companies), batch_size=2000
    )
    return [str(company.pk) for company in companies]
