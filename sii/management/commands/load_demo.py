"""python manage.py load_demo: demo companies for the simulator; running it again adds nothing."""

import uuid

from django.core.management.base import BaseCommand
from django.db import transaction

from sii import rut
from sii.models import Company, Subscription

# The first id is the original service's documented example company, so its curl examples work as written.
DEMO_COMPANIES = [
    ("123e4567-e89b-12d3-a456-426614174000", "Comercial Los Andes SpA", "76.086.428-5", "demo"),
    ("6f1c2d4e-8a3b-4c5d-9e7f-0a1b2c3d4e5f", "Ferretería del Sur Ltda", "77.879.240-0", "demo"),
    ("9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "Servicios Contables Pacífico SpA", "76.369.187-K", "demo"),
    # The simulator refuses the clave "wrong": this one shows what a failed sync looks like.
    ("c0ffee00-1234-4abc-9def-0123456789ab", "Constructora Clave Vencida SpA", "76.555.835-2", "wrong"),
]


class Command(BaseCommand):
    help = "Create the demo companies (simulator credentials, active subscriptions) if missing."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        created = [name for spec in DEMO_COMPANIES if (name := _ensure(*spec))]
        if created:
            self.stdout.write(f"Demo companies created: {', '.join(created)}")
        else:
            self.stdout.write("Demo companies already present; nothing added.")
        for company_id, name, spelled_rut, _ in DEMO_COMPANIES:
            self.stdout.write(f"  {company_id}  {spelled_rut}  {name}")


def _ensure(company_id: str, name: str, spelled_rut: str, clave: str) -> str | None:
    if Company.objects.filter(pk=company_id).exists():
        return None
    parsed = rut.parse(spelled_rut)
    company = Company(id=uuid.UUID(company_id), name=name, rut_body=parsed.body, rut_dv=parsed.dv)
    company.set_sii_password(clave)
    company.save()
    Subscription.objects.create(company=company)
    return name
