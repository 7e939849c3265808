"""`manage.py create_api_key --org <slug> [--name N]`: prints only the new key (so scripts can
capture it), nothing else. The slug may name a company or an agency."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from agencies.models import Agency
from careerrelay.core.apikeys import api_key_create
from companies.models import Company


class Command(BaseCommand):
    help = "Create an API key for a company or agency and print it (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="slug of the company or agency")
        parser.add_argument("--name", default="CLI", help="a name for the key")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["org"].strip()
        if "\x00" in slug or len(slug) > 60:
            # A NUL byte would reach PostgreSQL as a DataError; no slug is that long.
            raise CommandError(f"No company or agency with the slug {slug!r}.")
        tenant = (
            Company.objects.filter(slug=slug).first() or Agency.objects.filter(slug=slug).first()
        )
        if tenant is None:
            raise CommandError(f"No company or agency with the slug {slug!r}.")
        _, plaintext = api_key_create(tenant=tenant, name=options["name"])
        self.stdout.write(plaintext)
