"""The seeded data generator: organisations through the ORM (a handful of rows), the big tables
(links, clicks, candidates, referrals, ledger, placements) with PostgreSQL COPY.

Rows are written the way the product would have left them: clicks with their classification and
visitor hash, referrals in a realistic mix of statuses, a balanced ledger with the product's
idempotency keys (`qualify:<referral>`, `convert:<partnership>:<n>`) and cached balances, and the
daily rollups rebuilt by the product's own rollup code.
"""

from __future__ import annotations

import base64
import calendar
import contextlib
import datetime as dt
import itertools
import random
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

SEED = 20261129
PASSWORD = "bench-password-0123"  # noqa: S105 - benchmark users only
UA_HUMAN = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def scaled(n: int, scale: float, minimum: int) -> int:
    return max(minimum, round(n * scale))


@dataclass
class Sizes:
    """Every count of the benchmark, derived from BENCH_SCALE."""

    scale: float
    landing_links: int = 0
    burst_links: int = 0
    burst_requests: int = 0
    ingest_rows: int = 0
    dashboard_links: int = 0
    small_clicks: int = 0
    small_referrals: int = 0
    large_clicks: int = 0
    large_referrals: int = 0
    registrations_per_client: int = 0
    qualify_per_client: int = 0
    settle_companies: int = 0
    settle_agencies: int = 0
    settle_placements: int = 0

    def __post_init__(self) -> None:
        s = self.scale
        self.landing_links = scaled(2_000, s, 50)
        self.burst_links = scaled(500, s, 20)
        self.burst_requests = scaled(100_000, s, 1_000)
        self.ingest_rows = scaled(20_000, s, 1_000)
        self.dashboard_links = 40
        self.small_clicks = scaled(10_000, s, 1_000)
        self.small_referrals = scaled(1_000, s, 100)
        self.large_clicks = scaled(1_000_000, s, 10_000)
        self.large_referrals = scaled(100_000, s, 1_000)
        self.registrations_per_client = scaled(20, s, 3)
        self.qualify_per_client = scaled(10, s, 3)
        self.settle_companies = scaled(1_000, s, 10)
        self.settle_agencies = scaled(20, s, 2)
        self.settle_placements = scaled(100_000, s, 1_000)


@dataclass
class Org:
    company_id: int
    partnership_id: int
    link_ids: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    user_email: str = ""


@dataclass
class Dataset:
    sizes: Sizes
    agency_id: int = 0
    agency_user_email: str = ""
    landing: Org | None = None
    burst: Org | None = None
    ingest: Org | None = None
    register: Org | None = None
    small: Org | None = None
    large: Org | None = None
    qualify: Org | None = None
    qualify_referral_ids: list[int] = field(default_factory=list)
    settle_period: str = ""
    settle_expected_rebates: int = 0
    settle_expected_rebate_jpy: int = 0
    timings: dict[str, float] = field(default_factory=dict)


# --- COPY plumbing ------------------------------------------------------------------------------


def _default(f: models.Field, now: dt.datetime) -> Any:
    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        return now
    if f.has_default():
        return f.get_default()
    if f.null:
        return None
    if isinstance(f, models.CharField | models.TextField):
        return ""
    raise ValueError(f"{f.model.__name__}.{f.name} needs a value")


class Copier:
    """COPY rows of one model, filling every column the caller leaves out with its default."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.table = model._meta.db_table
        self.fields = list(model._meta.concrete_fields)
        self.columns = [f.column for f in self.fields]
        now = timezone.now()
        self.defaults = {}
        self.json_columns = set()
        for f in self.fields:
            if isinstance(f, models.JSONField):
                self.json_columns.add(f.column)
            if f.primary_key:
                continue
            try:
                self.defaults[f.column] = _default(f, now)
            except ValueError:
                self.defaults[f.column] = _REQUIRED

    def copy(self, rows: Iterable[dict[str, Any]]) -> int:
        from psycopg.types.json import Jsonb

        iterator = iter(rows)
        first = next(iterator, None)
        if first is None:
            return 0
        pk = self.model._meta.pk.column
        columns = [c for c in self.columns if c != pk or pk in first]
        quoted = ", ".join(f'"{c}"' for c in columns)
        sql = f'COPY "{self.table}" ({quoted}) FROM STDIN'
        plan = [(c, self.defaults.get(c, _REQUIRED), c in self.json_columns) for c in columns]
        for column, default, _json in plan:
            if default is _REQUIRED and column not in first:
                raise ValueError(f"{self.table}.{column} needs a value")
        json_at = [i for i, (_c, _d, is_json) in enumerate(plan) if is_json]
        count = 0
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            write = copy.write_row
            for row in itertools.chain([first], iterator):
                values = [row.get(column, default) for column, default, _json in plan]
                for i in json_at:
                    if values[i] is not None:
                        values[i] = Jsonb(values[i])
                write(values)
                count += 1
        return count


_REQUIRED = object()


class Ids:
    """Explicit primary keys for COPY, handed out above the table's current maximum; the
    sequences are moved past them at the end (`reset_sequences`)."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, model: type[models.Model], n: int) -> range:
        table = model._meta.db_table
        if table not in self.next:
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
                self.next[table] = int(cursor.fetchone()[0]) + 1
        start = self.next[table]
        self.next[table] = start + n
        return range(start, start + n)


def reset_sequences(tables: Iterable[str]) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
            )


# --- the generator ------------------------------------------------------------------------------


class Generator:
    def __init__(self, sizes: Sizes, *, seed: int = SEED) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.ids = Ids()
        self.now = timezone.now()
        self.password_hash = make_password(PASSWORD)
        from referrals import pii

        # One real ciphertext per field: every candidate decrypts, at the cost of one Fernet call.
        self.name_enc = pii.encrypt("ベンチ 太郎")
        self.email_enc = pii.encrypt("bench.candidate@example.jp")
        self.phone_enc = pii.encrypt("090-0000-0000")
        self.tables: set[str] = set()

    # small helpers ------------------------------------------------------------------------

    def hex(self, bits: int = 256) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def token(self) -> str:
        # The product's shape (secrets.token_urlsafe(16): 128 bits, 22 URL-safe characters),
        # drawn from the seeded generator so that a rerun makes the same links.
        return base64.urlsafe_b64encode(self.rng.getrandbits(128).to_bytes(16, "big")).decode()[:22]

    def when(self, days: int = 365) -> dt.datetime:
        return self.now - dt.timedelta(seconds=self.rng.randrange(days * 86_400))

    def copy(self, model: type[models.Model], rows: Iterable[dict[str, Any]]) -> int:
        self.tables.add(model._meta.db_table)
        return Copier(model).copy(rows)

    # organisations ------------------------------------------------------------------------

    def agency(self, slug: str, name: str) -> Any:
        from agencies.models import Agency

        return Agency.objects.create(
            slug=slug,
            name=name,
            license_number=f"13-ユ-{self.rng.randrange(100000, 999999)}",
            license_expires_on=(self.now + dt.timedelta(days=3 * 365)).date(),
            license_verified_at=self.now,
            default_fee_rate=Decimal("35.00"),
            invoice_registration_number=f"T{self.rng.randrange(10**12, 10**13)}",
            contact_email=f"contact@{slug}.example",
        )

    def user(self, email: str) -> Any:
        from careerrelay.users.models import User

        return User.objects.create(
            email=email, name=email.split("@")[0], password=self.password_hash
        )

    def company(self, slug: str, name: str, agency: Any, *, with_user: bool = False) -> Org:
        from companies.models import Company, CompanyMember, Partnership

        company = Company.objects.create(
            slug=slug,
            name=name,
            landing_message="このたびはご応募いただき、誠にありがとうございました。"
            "今回はご期待に沿えない結果となりましたが、信頼できる紹介会社をご案内いたします。",
            invoice_registration_number=f"T{self.rng.randrange(10**12, 10**13)}",
        )
        partnership = Partnership.all_objects.create(
            company=company, agency=agency, status="active", activated_at=self.now
        )
        org = Org(company_id=company.pk, partnership_id=partnership.pk)
        if with_user:
            user = self.user(f"hr@{slug}.example")
            CompanyMember.objects.create(company=company, user=user, role="owner")
            org.user_email = user.email
        return org

    def links(self, org: Org, agency_id: int, n: int, *, kind: str = "personal") -> None:
        from referrals.models import ReferralLink

        ids = self.ids.take(ReferralLink, n)
        tokens = [self.token() for _ in range(n)]
        rows = (
            {
                "id": link_id,
                "company_id": org.company_id,
                "agency_id": agency_id,
                "partnership_id": org.partnership_id,
                "kind": kind,
                "label": f"bench {kind} {i}",
                "token": token,
                "candidate_email_hash": self.hex() if kind == "personal" else "",
                "candidate_email_enc": self.email_enc if kind == "personal" else "",
                "candidate_name_enc": self.name_enc if kind == "personal" else "",
                "created_at": self.when(400),
            }
            for i, (link_id, token) in enumerate(zip(ids, tokens, strict=True))
        )
        self.copy(ReferralLink, rows)
        org.link_ids.extend(ids)
        org.tokens.extend(tokens)

    # big tables ---------------------------------------------------------------------------

    def clicks(self, org: Org, agency_id: int, n: int) -> None:
        from referrals.models import Click

        rng = self.rng
        links = org.link_ids

        def rows() -> Iterator[dict[str, Any]]:
            for _ in range(n):
                roll = rng.random()
                kind = "human" if roll < 0.88 else "scanner" if roll < 0.96 else "bot"
                yield {
                    "uid": self.uuid(),
                    "company_id": org.company_id,
                    "agency_id": agency_id,
                    "link_id": links[rng.randrange(len(links))],
                    "clicked_at": self.when(),
                    "classification": kind,
                    "is_unique": kind == "human" and rng.random() < 0.8,
                    "visitor_hash": self.hex(128),
                }

        self.copy(Click, rows())

    def candidates_and_referrals(
        self,
        org: Org,
        agency_id: int,
        n: int,
        *,
        statuses: Sequence[tuple[str, float]],
        days: int = 365,
    ) -> list[tuple[int, str, dt.datetime]]:
        """n candidates and one referral each. Returns (referral id, status, created_at)."""
        from referrals.models import Candidate, Referral

        rng = self.rng
        cand_ids = self.ids.take(Candidate, n)
        ref_ids = self.ids.take(Referral, n)
        created = [self.when(days) for _ in range(n)]
        cumulative = []
        total = 0.0
        for status, weight in statuses:
            total += weight
            cumulative.append((total, status))
        picked = []
        for _ in range(n):
            roll = rng.random() * total
            picked.append(next(s for edge, s in cumulative if roll <= edge))
        self.copy(
            Candidate,
            (
                {
                    "id": cid,
                    "agency_id": agency_id,
                    "name_enc": self.name_enc,
                    "email_enc": self.email_enc,
                    "email_hash": self.hex(),
                    "phone_enc": self.phone_enc,
                    "phone_hash": self.hex(),
                    "desired_role": "エンジニア",
                    "prefecture": "東京都",
                    "email_verified_at": created[i],
                    "created_at": created[i],
                }
                for i, cid in enumerate(cand_ids)
            ),
        )
        links = org.link_ids

        def referral(i: int) -> dict[str, Any]:
            status = picked[i]
            at = created[i]
            qualified = status == "qualified"
            return {
                "id": ref_ids[i],
                "company_id": org.company_id,
                "agency_id": agency_id,
                "partnership_id": org.partnership_id,
                "link_id": links[rng.randrange(len(links))] if links else None,
                "candidate_id": cand_ids[i],
                "click_uid": self.uuid(),
                "status": status,
                "stage": "interviewed" if qualified else "new",
                "qualification_count": 1 if qualified else 0,
                "qualified_at": at + dt.timedelta(days=7) if qualified else None,
                "disqualified_at": at + dt.timedelta(days=3) if status == "disqualified" else None,
                "disqualify_reason": "面談に来られませんでした" if status == "disqualified" else "",
                "seconds_to_register": rng.randrange(30, 900),
                "attributed_at": at,
                "created_at": at,
            }

        self.copy(Referral, (referral(i) for i in range(n)))
        return [(ref_ids[i], picked[i], created[i]) for i in range(n)]

    def ledger_for_qualified(
        self, org: Org, agency_id: int, qualified: list[tuple[int, dt.datetime]]
    ) -> None:
        """The ledger the product would have posted: +1 point per qualification, one free hire
        per `referrals_per_free_hire` (10) points, balances and per-kind totals cached on the
        accounts."""
        from credits.models import (
            ACCOUNT_UNIT,
            AccountName,
            LedgerAccount,
            LedgerEntry,
            LedgerTransaction,
        )

        threshold = 10
        qualified = sorted(qualified, key=lambda item: item[1])
        conversions = len(qualified) // threshold
        balances = {
            AccountName.POINTS: len(qualified) - conversions * threshold,
            AccountName.POINTS_ISSUED: -(len(qualified) - conversions * threshold),
            AccountName.FREE_HIRES: conversions,
            AccountName.FREE_HIRES_ISSUED: -conversions,
            AccountName.REBATE_JPY: 0,
            AccountName.REBATE_OWED: 0,
        }
        # The per-kind running totals the product keeps on each account (LedgerAccount.totals).
        points_flows = {"qualify": len(qualified)}
        if conversions:
            points_flows["convert"] = -conversions * threshold
        totals = {
            AccountName.POINTS: points_flows,
            AccountName.POINTS_ISSUED: {kind: -amount for kind, amount in points_flows.items()},
            AccountName.FREE_HIRES: {"convert": conversions} if conversions else {},
            AccountName.FREE_HIRES_ISSUED: {"convert": -conversions} if conversions else {},
            AccountName.REBATE_JPY: {},
            AccountName.REBATE_OWED: {},
        }
        if not qualified:
            totals[AccountName.POINTS] = totals[AccountName.POINTS_ISSUED] = {}
        account_ids = dict(
            zip(list(AccountName), self.ids.take(LedgerAccount, len(AccountName)), strict=True)
        )
        base = {"partnership_id": org.partnership_id, "company_id": org.company_id}
        base["agency_id"] = agency_id
        self.copy(
            LedgerAccount,
            (
                {
                    **base,
                    "id": aid,
                    "name": name,
                    "unit": ACCOUNT_UNIT[name],
                    "balance": balances[name],
                    "totals": totals[name],
                }
                for name, aid in account_ids.items()
            ),
        )
        txs: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []
        tx_ids = iter(self.ids.take(LedgerTransaction, len(qualified) + conversions))
        for i, (ref_id, at) in enumerate(qualified, start=1):
            tx_id = next(tx_ids)
            key = f"qualify:{ref_id}"
            txs.append(
                {
                    **base,
                    "id": tx_id,
                    "kind": "qualify",
                    "idempotency_key": key,
                    "referral_id": ref_id,
                    "created_at": at,
                }
            )
            for name, amount in ((AccountName.POINTS, 1), (AccountName.POINTS_ISSUED, -1)):
                entries.append(
                    {
                        **base,
                        "transaction_id": tx_id,
                        "account_id": account_ids[name],
                        "account_name": name,
                        "unit": ACCOUNT_UNIT[name],
                        "amount": amount,
                        "kind": "qualify",
                        "idempotency_key": f"{key}:{name}",
                        "created_at": at,
                    }
                )
            if i % threshold == 0:
                n = i // threshold
                tx_id = next(tx_ids)
                key = f"convert:{org.partnership_id}:{n}"
                txs.append(
                    {
                        **base,
                        "id": tx_id,
                        "kind": "convert",
                        "idempotency_key": key,
                        "memo": f"{threshold} points -> 1 free hire",
                        "created_at": at,
                    }
                )
                for name, amount in (
                    (AccountName.POINTS, -threshold),
                    (AccountName.POINTS_ISSUED, threshold),
                    (AccountName.FREE_HIRES, 1),
                    (AccountName.FREE_HIRES_ISSUED, -1),
                ):
                    entries.append(
                        {
                            **base,
                            "transaction_id": tx_id,
                            "account_id": account_ids[name],
                            "account_name": name,
                            "unit": ACCOUNT_UNIT[name],
                            "amount": amount,
                            "kind": "convert",
                            "idempotency_key": f"{key}:{name}",
                            "created_at": at,
                        }
                    )
        self.copy(LedgerTransaction, txs)
        self.copy(LedgerEntry, entries)

    def placements(
        self,
        orgs: list[Org],
        agency_ids: list[int],
        n: int,
        period: str,
    ) -> tuple[int, int]:
        """n placements of referred candidates at another company, whose guarantee ends in
        `period`, spread over the companies. Returns (rebates expected, rebate yen expected)."""
        from agencies.models import Placement

        year, month = (int(part) for part in period.split("-"))
        last_day = calendar.monthrange(year, month)[1]
        rng = self.rng
        per_org: list[list[tuple[int, str, dt.datetime]]] = []
        quotas = [n // len(orgs) + (1 if i < n % len(orgs) else 0) for i in range(len(orgs))]
        for org, agency_id, quota in zip(orgs, agency_ids, quotas, strict=True):
            per_org.append(
                self.candidates_and_referrals(
                    org, agency_id, quota, statuses=[("qualified", 1.0)], days=400
                )
            )
        ids = self.ids.take(Placement, n)
        expected_yen = 0
        rows = []
        i = 0
        tiers = [[30, 50], [90, 30], [180, 10]]
        for org, agency_id, refs in zip(orgs, agency_ids, per_org, strict=True):
            for ref_id, _status, _created in refs:
                ends = dt.date(year, month, rng.randint(1, last_day))
                start = ends - dt.timedelta(days=180)
                salary = rng.randrange(3_500_000, 12_000_000, 10_000)
                fee = salary * 35 // 100
                expected_yen += fee * 10 // 100
                rows.append(
                    {
                        "id": ids[i],
                        "agency_id": agency_id,
                        "referral_id": ref_id,
                        "company_id": org.company_id,
                        "partnership_id": org.partnership_id,
                        "candidate_name": "ベンチ 太郎",
                        "hiring_company_id": None,
                        "hiring_company_name": "株式会社ベンチ転職先",
                        "annual_salary_jpy": salary,
                        "fee_rate": Decimal("35.00"),
                        "fee_jpy": fee,
                        "start_date": start,
                        "guarantee_ends_on": ends,
                        "refund_tiers": tiers,
                        "free_hire": False,
                        "status": "active",
                        "created_at": timezone.make_aware(
                            dt.datetime.combine(start, dt.time(10, 0))
                        ),
                    }
                )
                i += 1
        self.copy(Placement, rows)
        return n, expected_yen


@contextlib.contextmanager
def bulk_load() -> Iterator[None]:
    """One transaction in which PostgreSQL skips triggers: the deferred foreign-key checks (3
    per click row, run at commit) and the ledger's per-row balance trigger. The rows are
    consistent by construction; `verify` proves it afterwards with set-based queries."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        yield


def verify(tables: Iterable[str]) -> None:
    """What the skipped triggers would have checked: every foreign key of the generated rows
    points at a row, every ledger transaction sums to zero per unit, and every account's cached
    balance and per-kind totals are the sums of its entries."""
    from django.apps import apps

    by_table = {m._meta.db_table: m for m in apps.get_models()}
    with connection.cursor() as cursor:
        for table in sorted(tables):
            for f in by_table[table]._meta.concrete_fields:
                if not f.is_relation:
                    continue
                parent = f.related_model._meta.db_table
                cursor.execute(
                    f'SELECT 1 FROM "{table}" c LEFT JOIN "{parent}" p ON p.id = c."{f.column}" '
                    f'WHERE c."{f.column}" IS NOT NULL AND p.id IS NULL LIMIT 1'
                )
                if cursor.fetchone():
                    raise RuntimeError(f"{table}.{f.column} points at a missing {parent} row")
        cursor.execute(
            "SELECT transaction_id, unit, SUM(amount) FROM credits_ledgerentry "
            "GROUP BY transaction_id, unit HAVING SUM(amount) <> 0 LIMIT 1"
        )
        bad = cursor.fetchone()
    if bad is not None:
        raise RuntimeError(f"generated ledger transaction {bad[0]} does not balance: {bad}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.id FROM credits_ledgeraccount a LEFT JOIN ("
            " SELECT account_id, SUM(total) AS balance, jsonb_object_agg(kind, total) AS totals"
            " FROM (SELECT account_id, kind, SUM(amount) AS total FROM credits_ledgerentry"
            " GROUP BY 1, 2) per_kind GROUP BY 1) s ON s.account_id = a.id"
            " WHERE a.balance <> COALESCE(s.balance, 0) OR a.totals <> COALESCE(s.totals, '{}')"
            " LIMIT 1"
        )
        bad = cursor.fetchone()
    if bad is not None:
        raise RuntimeError(f"generated ledger account {bad[0]}: cached balance or totals differ")


def previous_period(now: dt.datetime | None = None) -> str:
    today = timezone.localdate(now or timezone.now())
    first = today.replace(day=1)
    last_month = first - dt.timedelta(days=1)
    return f"{last_month.year:04d}-{last_month.month:02d}"


def generate(sizes: Sizes, *, log: Any = print) -> Dataset:
    """Build the whole data set in the (empty, migrated) database."""
    import time

    from careerrelay.core.models import ApiKey  # noqa: F401  (imported for its app registry)

    gen = Generator(sizes)
    data = Dataset(sizes=sizes)
    started = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal started
        data.timings[name] = round(time.perf_counter() - started, 2)
        log(f"  data: {name} in {data.timings[name]:.1f}s")
        started = time.perf_counter()

    with transaction.atomic():
        from agencies.models import AgencyMember

        agency = gen.agency("bench-agency", "ベンチ人材紹介株式会社")
        user = gen.user("agent@bench-agency.example")
        AgencyMember.objects.create(agency=agency, user=user, role="owner")
        data.agency_id = agency.pk
        data.agency_user_email = user.email

        data.landing = gen.company("bench-landing", "株式会社ベンチ着地", agency)
        gen.links(data.landing, agency.pk, sizes.landing_links)
        data.burst = gen.company("bench-burst", "株式会社ベンチ集中", agency)
        gen.links(data.burst, agency.pk, sizes.burst_links)
        data.ingest = gen.company("bench-ingest", "株式会社ベンチ取込", agency)
        gen.links(data.ingest, agency.pk, 50)
        data.register = gen.company("bench-register", "株式会社ベンチ登録", agency)
        gen.links(data.register, agency.pk, 1, kind="campaign")
        data.qualify = gen.company("bench-qualify", "株式会社ベンチ判定", agency)
        gen.links(data.qualify, agency.pk, 5, kind="campaign")
    mark("organisations and links")

    statuses = [("new", 0.5), ("qualified", 0.3), ("disqualified", 0.1), ("duplicate", 0.1)]
    for attr, slug, clicks, referrals in (
        ("small", "bench-small", sizes.small_clicks, sizes.small_referrals),
        ("large", "bench-large", sizes.large_clicks, sizes.large_referrals),
    ):
        with bulk_load():
            org = gen.company(slug, f"株式会社ベンチ{attr}", agency, with_user=True)
            setattr(data, attr, org)
            gen.links(org, agency.pk, sizes.dashboard_links, kind="campaign")
            gen.clicks(org, agency.pk, clicks)
            refs = gen.candidates_and_referrals(org, agency.pk, referrals, statuses=statuses)
            gen.ledger_for_qualified(
                org, agency.pk, [(rid, at) for rid, status, at in refs if status == "qualified"]
            )
        mark(f"{attr} tenant: {clicks} clicks, {referrals} referrals")

    with bulk_load():
        n = 50 * sizes.qualify_per_client
        refs = gen.candidates_and_referrals(
            data.qualify, agency.pk, n, statuses=[("new", 1.0)], days=30
        )
        data.qualify_referral_ids = [rid for rid, _s, _at in refs]
    mark(f"qualify tenant: {n} new referrals")

    with bulk_load():
        agencies = [agency] + [
            gen.agency(f"bench-settle-agency-{i}", f"ベンチ精算紹介{i}")
            for i in range(1, sizes.settle_agencies)
        ]
        orgs = []
        agency_ids = []
        for i in range(sizes.settle_companies):
            owner = agencies[i % len(agencies)]
            orgs.append(gen.company(f"bench-settle-{i}", f"株式会社ベンチ精算{i}", owner))
            agency_ids.append(owner.pk)
        data.settle_period = previous_period()
        data.settle_expected_rebates, data.settle_expected_rebate_jpy = gen.placements(
            orgs, agency_ids, sizes.settle_placements, data.settle_period
        )
    mark(f"settlement: {sizes.settle_placements} placements, {sizes.settle_companies} companies")

    verify(gen.tables)
    mark("foreign keys and ledger balance verified")
    reset_sequences(gen.tables | {"agencies_agency", "companies_company"})
    rebuild_rollups()
    mark("daily rollups")
    settle_after_bulk_load()
    mark("vacuum, analyze, checkpoint")
    return data


def settle_after_bulk_load() -> None:
    """Leave the database as a production one is between bulk loads: vacuumed (visibility map
    set), analysed and checkpointed. Without it, autovacuum and the checkpointer work through the
    million freshly inserted rows during the first minute of measurements, on the same two cores
    as gunicorn (bench/NOTES.md)."""
    from django.db import DatabaseError

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
        # Superuser or pg_checkpoint only: the harness is normally the owner and superuser.
        with contextlib.suppress(DatabaseError):
            cursor.execute("CHECKPOINT")


def rebuild_rollups() -> None:
    """The product's own nightly rebuild of the dashboard rollups."""
    from referrals.rollups import rollup_rebuild

    rollup_rebuild()
