"""A small multi-tenant world for isolation tests, with sentinel strings in every tenant.

Two companies (A, B) and two agencies (A, B), partnered in all four pairs: P_AA, P_AB, P_BA,
P_BB. Each partnership has a link, a click, a candidate, a referral, a consent, a ledger posting,
a placement and a daily rollup; each organisation has a statement, an API key, an invitation, a
notification, an audit row and a member whose email is a sentinel.

Every sentinel records who may see it (`visible_to`, a set of org keys such as "co:A"). The
viewers under test are company A and agency A; "counterparty" rows are those of P_AB (company A's
other agency) and P_BA (agency A's other company).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from agencies.models import Agency, AgencyMember, Placement
from careerrelay.core.apikeys import api_key_create
from careerrelay.core.models import AuditEvent, Invitation, Notification
from careerrelay.users.models import User
from companies.models import Company, CompanyMember, Partnership, PartnershipStatus
from credits.models import (
    ACCOUNT_UNIT,
    AccountName,
    EntryKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Statement,
    StatementKind,
)
from referrals import pii
from referrals.models import (
    Candidate,
    Click,
    Consent,
    DailyStat,
    LinkBatch,
    Referral,
    ReferralLink,
)

TAG = "SENTINEL-7f3a"
PASSWORD = "test-password-123"


@dataclass
class Sentinel:
    text: str
    visible_to: frozenset[str]
    # PII is never widened by a capability URL (a landing-page token shows the organisations,
    # never a candidate).
    pii: bool = False


@dataclass
class Owned:
    """An object of some kind, and the org keys that own it (may see and change it)."""

    kind: str
    obj: Any
    owners: frozenset[str]

    @property
    def pk(self) -> Any:
        return self.obj.pk


@dataclass
class World:
    orgs: dict[str, Any] = field(default_factory=dict)  # "co:A" -> Company
    users: dict[str, Any] = field(default_factory=dict)  # "co:A:owner" -> User
    keys: dict[str, str] = field(default_factory=dict)  # "co:A" -> plaintext API key
    sentinels: list[Sentinel] = field(default_factory=list)
    objects: list[Owned] = field(default_factory=list)

    def add(self, kind: str, obj: Any, owners: set[str]) -> Any:
        self.objects.append(Owned(kind, obj, frozenset(owners)))
        return obj

    def mark(self, text: str, visible_to: set[str], *, pii: bool = False) -> str:
        self.sentinels.append(Sentinel(text, frozenset(visible_to), pii))
        return text

    def of_kind(self, kind: str) -> list[Owned]:
        return [o for o in self.objects if o.kind == kind]

    def visible_to(self, viewer: str) -> list[str]:
        """Sentinel texts the viewer's organisation may see."""
        return [s.text for s in self.sentinels if viewer in s.visible_to]

    def forbidden_for(
        self, viewer: str | None, *, capability: frozenset[str] = frozenset()
    ) -> list[str]:
        """Sentinel texts the viewer (an org key, or None for anonymous) must never receive."""
        seen = {viewer} if viewer else set()
        out = []
        for s in self.sentinels:
            if s.visible_to & seen:
                continue
            if not s.pii and s.visible_to & capability:
                continue
            out.append(s.text)
        return out


def _org_key(org: Any) -> str:
    return f"{'co' if org.kind == 'company' else 'ag'}:{org.slug[-1].upper()}"


def build_world() -> World:
    w = World()
    now = timezone.now()
    for side in ("A", "B"):
        co_key, ag_key = f"co:{side}", f"ag:{side}"
        w.orgs[co_key] = Company.objects.create(
            slug=f"iso-co-{side.lower()}",
            name=f"{TAG}-co{side}-name",
            landing_message=f"{TAG}-co{side}-msg",
            email_domains=f"iso-co-{side.lower()}.example",
        )
        w.orgs[ag_key] = Agency.objects.create(
            slug=f"iso-ag-{side.lower()}",
            name=f"{TAG}-ag{side}-name",
            license_number=f"13-ユ-77000{side == 'B':d}",
            license_expires_on=timezone.localdate() + dt.timedelta(days=900),
            license_verified_at=now,
            contact_email=f"contact-ag{side.lower()}@iso.example",
        )
    # Organisation names and landing messages: the org itself and its partners see them.
    for side in ("A", "B"):
        w.mark(f"{TAG}-co{side}-name", {f"co:{side}", "ag:A", "ag:B"})
        w.mark(f"{TAG}-co{side}-msg", {f"co:{side}", "ag:A", "ag:B"})
        w.mark(f"{TAG}-ag{side}-name", {f"ag:{side}", "co:A", "co:B"})

    # Users: the A organisations have an owner and a member (the principals under test);
    # every organisation has a member whose email and name are sentinels.
    for key, org in w.orgs.items():
        member_model = CompanyMember if key.startswith("co") else AgencyMember
        fk = "company" if key.startswith("co") else "agency"
        slug = key.replace(":", "").lower()
        if key.endswith("A"):
            for role in ("owner", "member"):
                user = User.objects.create_user(f"{slug}-{role}@iso.example", PASSWORD)
                member_model.objects.create(**{fk: org}, user=user, role=role)
                w.users[f"{key}:{role}"] = user
        secret_user = User.objects.create_user(
            f"sentinel-7f3a-{slug}-staff@iso.example", PASSWORD, name=f"{TAG}-{slug}-staff"
        )
        w.mark(f"sentinel-7f3a-{slug}-staff@iso.example", {key})
        w.mark(f"{TAG}-{slug}-staff", {key})
        membership = member_model.objects.create(**{fk: org}, user=secret_user, role="admin")
        w.add(f"{fk}_member", membership, {key})

        api_key, plaintext = api_key_create(tenant=org, name=f"{TAG}-{slug}-key")
        w.keys[key] = plaintext
        w.mark(f"{TAG}-{slug}-key", {key})
        w.add("apikey", api_key, {key})
        invite = Invitation.all_objects.create(
            **{fk: org},
            email=f"sentinel-7f3a-{slug}-invite@iso.example",
            token_hash=uuid.uuid4().hex * 2,
            expires_at=now + dt.timedelta(days=7),
        )
        w.mark(f"sentinel-7f3a-{slug}-invite@iso.example", {key})
        w.add("invitation", invite, {key})
        note = Notification.all_objects.create(
            **{fk: org}, key=f"iso:{slug}", message=f"{TAG}-{slug}-notice"
        )
        w.mark(f"{TAG}-{slug}-notice", {key})
        w.add("notification", note, {key})
        event = AuditEvent.all_objects.create(
            **{fk: org}, action="iso.test", data={"note": f"{TAG}-{slug}-audit"}
        )
        w.mark(f"{TAG}-{slug}-audit", {key})
        w.add("audit", event, {key})

    for cs in ("A", "B"):
        for ags in ("A", "B"):
            _partnership_rows(w, cs, ags, now)

    for key, org in w.orgs.items():
        fk = "company" if key.startswith("co") else "agency"
        slug = key.replace(":", "").lower()
        statement = Statement.all_objects.create(
            **{fk: org},
            period="2026-10",
            kind=StatementKind.COMPANY if fk == "company" else StatementKind.AGENCY,
            total_jpy=123_456,
            tax_jpy=12_345,
            lines=[{"label": f"{TAG}-{slug}-stmt"}],
            issued_on=timezone.localdate(),
        )
        w.mark(f"{TAG}-{slug}-stmt", {key})
        w.add("statement", statement, {key})
    return w


def _partnership_rows(w: World, cs: str, ags: str, now: dt.datetime) -> None:
    co, ag = w.orgs[f"co:{cs}"], w.orgs[f"ag:{ags}"]
    both = {f"co:{cs}", f"ag:{ags}"}
    agency_only = {f"ag:{ags}"}
    tag = f"P{cs}{ags}"
    p = Partnership.all_objects.create(
        company=co,
        agency=ag,
        status=PartnershipStatus.ACTIVE,
        referrals_per_free_hire=10,
        rebate_rate=Decimal("10.00"),
        activated_at=now,
    )
    w.add("partnership", p, both)
    link = ReferralLink.all_objects.create(
        company=co,
        agency=ag,
        partnership=p,
        label=w.mark(f"{TAG}-{tag}-label", both),
        token=f"isotok{cs}{ags}{uuid.uuid4().hex[:20]}",
    )
    w.add("link", link, both)
    batch = LinkBatch.all_objects.create(
        company=co,
        agency=ag,
        partnership=p,
        label=w.mark(f"{TAG}-{tag}-batch", both),
        link_ids=[link.pk],
        created_count=1,
    )
    w.add("link_batch", batch, both)
    click = Click.all_objects.create(
        uid=uuid.uuid4(),
        company=co,
        agency=ag,
        link=link,
        clicked_at=now - dt.timedelta(minutes=5),
        visitor_hash=uuid.uuid4().hex,
    )
    w.add("click", click, both)
    name = w.mark(f"{TAG}-{tag}-cand", agency_only, pii=True)
    email = w.mark(f"sentinel-7f3a-{tag.lower()}@cand.example", agency_only, pii=True)
    phone_digits = f"0907{cs == 'B':d}{ags == 'B':d}73{cs == 'B':d}{ags == 'B':d}11"
    w.mark(phone_digits, agency_only, pii=True)
    candidate = Candidate.all_objects.create(
        agency=ag,
        name_enc=pii.encrypt(name),
        email_enc=pii.encrypt(email),
        email_hash=pii.email_hash(email),
        phone_enc=pii.encrypt(phone_digits),
        phone_hash=pii.phone_hash(phone_digits),
        desired_role="営業",
        prefecture="東京都",
        email_verified_at=now,
    )
    # The candidate's own signed links (magic page, email verification): capabilities.
    from referrals import services as referral_services

    candidate.pii_texts = [name, email, phone_digits]
    candidate.magic = referral_services.magic_token(candidate=candidate)
    candidate.verify = referral_services.verify_token(candidate=candidate)
    w.add("candidate", candidate, agency_only)
    referral = Referral.all_objects.create(
        company=co,
        agency=ag,
        partnership=p,
        link=link,
        candidate=candidate,
        click=click,
        click_uid=click.uid,
        notes=w.mark(f"{TAG}-{tag}-note", agency_only),
    )
    w.add("referral", referral, both)
    consent = Consent.all_objects.create(
        company=co,
        agency=ag,
        candidate=candidate,
        referral=referral,
        privacy_version="2026-11-01",
        third_party_version="2026-11-01",
        text_sha256="0" * 64,
        agency_name=ag.name,
        agency_license_number=ag.license_number,
        consented_at=now,
        retain_until=timezone.localdate() + dt.timedelta(days=3 * 366),
    )
    w.add("consent", consent, agency_only | both)
    accounts = {}
    for acc_name in (AccountName.POINTS, AccountName.POINTS_ISSUED):
        accounts[acc_name] = LedgerAccount.all_objects.create(
            partnership=p, company=co, agency=ag, name=acc_name, unit=ACCOUNT_UNIT[acc_name]
        )
    txn = LedgerTransaction.all_objects.create(
        partnership=p,
        company=co,
        agency=ag,
        kind=EntryKind.QUALIFY,
        idempotency_key=f"iso:qualify:{referral.pk}",
        referral=referral,
    )
    # One INSERT for the balanced pair: the ledger's statement trigger checks each statement.
    entries = LedgerEntry.all_objects.bulk_create(
        [
            LedgerEntry(
                transaction=txn,
                account=accounts[acc_name],
                partnership=p,
                company=co,
                agency=ag,
                account_name=acc_name,
                unit=ACCOUNT_UNIT[acc_name],
                amount=amount,
                kind=EntryKind.QUALIFY,
                idempotency_key=f"iso:qualify:{referral.pk}:{acc_name}",
            )
            for acc_name, amount in ((AccountName.POINTS, 1), (AccountName.POINTS_ISSUED, -1))
        ]
    )
    for entry in entries:
        w.add("ledger_entry", entry, both)
    w.add("ledger_account", accounts[AccountName.POINTS], both)
    w.add("ledger_transaction", txn, both)
    placement = Placement.all_objects.create(
        agency=ag,
        referral=referral,
        company=co,
        partnership=p,
        candidate_name=w.mark(f"{TAG}-{tag}-plname", agency_only, pii=True),
        hiring_company_name=w.mark(f"{TAG}-{tag}-hire", agency_only),
        annual_salary_jpy=6_000_000,
        fee_rate=Decimal("35.00"),
        fee_jpy=2_100_000,
        start_date=timezone.localdate() - dt.timedelta(days=10),
        guarantee_ends_on=timezone.localdate() + dt.timedelta(days=170),
    )
    w.add("placement", placement, agency_only)
    stat = DailyStat.all_objects.create(
        company=co, agency=ag, partnership=p, link=link, day=timezone.localdate(), clicks=1
    )
    w.add("daily_stat", stat, both)
