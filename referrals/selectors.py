"""Reads of the referrals app. Every tenant read takes the tenant explicitly; the landing page's
public look-up by token is cached (in-process LRU, then a shared copy in Redis, then the database)
so a page view touches no table in the steady state."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from agencies.models import Agency
from careerrelay.core import rls
from companies.models import Company, Partnership, PartnershipStatus
from referrals import clicks, pii
from referrals.models import (
    Candidate,
    Click,
    LinkBatch,
    Referral,
    ReferralLink,
)

logger = logging.getLogger(__name__)

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
# A mail-out spreads its views over thousands of personal links, so each web process sees a given
# link only every several seconds: copies that expired after 30 s sent many views back to Redis
# and the database (bench/NOTES.md). Copies now carry the landing version they were read under
# (clicks.LANDING_VERSION_KEY, moved by landing_changed), and the click capture reads the current
# version in the same round trip as the click: a live link's copy is checked on every view at no
# extra cost, so it is kept for minutes and a change still reaches every process's next view.
# Registrations always re-check the database.
LIVE_TTL_SECONDS = 600.0
# This process's copies of pages that record no click (gone, closed, unknown token) are not
# checked against the version: they expire sooner (a reactivated link opens again within this).
CLOSED_TTL_SECONDS = 30.0
LOCAL_MAX = 8192
_MISSING = "missing"


@dataclass(frozen=True)
class LandingLink:
    """What the landing page needs about a link, cacheable as plain data."""

    id: int
    token: str
    kind: str
    company_id: int
    agency_id: int
    partnership_id: int
    is_active: bool
    expires_at: float | None
    partnership_status: str
    company_name: str
    company_logo_url: str
    company_message: str
    agency_name: str
    agency_license_number: str
    agency_license_expires_on: str | None
    agency_license_verified: bool
    agency_contact_email: str
    agency_privacy_policy_url: str
    # The landing version this copy was read under ('' when Redis was unreachable).
    version: str = ""

    @functools.cached_property
    def open_until(self) -> float:
        """Until when (epoch seconds) the page takes registrations, and so records clicks; 0 when
        it does not for a reason time will not change (deactivated, partnership not active,
        licence unverified). The link's expiry and the licence's bound it. The shared copy
        carries it, so the capture script decides "open" by this same rule."""
        if (
            not self.is_active
            or self.partnership_status != PartnershipStatus.ACTIVE
            or not self.agency_license_verified
            or not self.agency_license_number
            or self.agency_license_expires_on is None
        ):
            return 0.0
        until = license_closes_at(dt.date.fromisoformat(self.agency_license_expires_on))
        return until if self.expires_at is None else min(until, self.expires_at)

    @property
    def is_open(self) -> bool:
        """The page takes registrations (and so records clicks)."""
        return time.time() < self.open_until

    @property
    def is_gone(self) -> bool:
        """Deactivated or expired: the friendly 410 page."""
        if not self.is_active:
            return True
        return self.expires_at is not None and self.expires_at <= time.time()

    @property
    def closed_reason(self) -> str:
        """'' when registrations are open, else a code: partnership / license_unverified /
        license_expired."""
        if self.partnership_status != PartnershipStatus.ACTIVE:
            return "partnership"
        if not self.agency_license_verified or not self.agency_license_number:
            return "license_unverified"
        last_day = self.agency_license_expires_on
        if last_day is None or time.time() >= license_closes_at(dt.date.fromisoformat(last_day)):
            return "license_expired"
        return ""


def license_closes_at(last_day: dt.date) -> float:
    """When (epoch seconds) a licence valid through `last_day` stops: the next midnight in the
    current time zone."""
    midnight = dt.datetime.combine(
        last_day + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone()
    )
    return midnight.timestamp()


def agency_license_problem(agency: Agency) -> str:
    """'' when the agency may receive referrals, else license_unverified / license_expired."""
    if not agency.license_verified_at or not agency.license_number:
        return "license_unverified"
    if agency.license_expires_on is None or time.time() >= license_closes_at(
        agency.license_expires_on
    ):
        return "license_expired"
    return ""


def partnership_closed_reason(partnership: Partnership) -> str:
    if partnership.status != PartnershipStatus.ACTIVE:
        return "partnership"
    return agency_license_problem(partnership.agency)


class _LocalCache:
    """A tiny thread-safe LRU whose entries expire, per process."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            if hit[0] < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return hit[1]

    def set(self, key: str, value: Any, ttl: float) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_local = _LocalCache(LOCAL_MAX)


def _cache_key(token: str) -> str:
    return f"cr:link:{token}"


def clear_local_cache() -> None:
    _local.clear()


def landing_link_forget(token: str) -> None:
    """Drop one link from this process's and the shared cache (a registration found it closed)."""
    _local.delete(_cache_key(token))
    try:
        clicks.forget_copy(token)
    except redis.RedisError:  # a cache outage must not fail the write
        logger.warning("Redis unreachable while forgetting link %s", token)


def landing_changed(*, created: bool = False, **_: Any) -> None:
    """What landing pages show changed: a link's state, a company's name, logo or message, an
    agency's name, licence or contact, a partnership's status. When the transaction commits, the
    landing version moves and every process reads its cached copies again on their next view.
    The receiver of those four models' post_save and post_delete (referrals/apps.py); a new row
    changes no page."""
    if created:
        return
    # Once per transaction: deleting an agency cascades over every link it has.
    if not any(_move_version in entry for entry in getattr(connection, "run_on_commit", ())):
        transaction.on_commit(_move_version)


def _move_version() -> None:
    _local.clear()
    # A random value, not a counter: a Redis that lost the key never repeats one.
    version = secrets.token_hex(8)
    if not settings.REDIS_URL:
        cache.set(clicks.LANDING_VERSION_KEY, version, None)  # the embedded demo's one process
        return
    try:
        conn = clicks.client()
        if conn is not None:
            conn.set(clicks.LANDING_VERSION_KEY, version)
    except redis.RedisError:
        logger.warning("Redis unreachable: cached landing pages catch up within their TTL")


def landing_version() -> str:
    """The current landing version ('' when Redis is unreachable). Without Redis (the embedded
    demo) it is kept in the local-memory cache."""
    if not settings.REDIS_URL:
        return str(cache.get(clicks.LANDING_VERSION_KEY) or "")
    try:
        conn = clicks.client()
        return clicks.as_text(conn.get(clicks.LANDING_VERSION_KEY) if conn is not None else None)
    except redis.RedisError:
        return ""


_LANDING_COLUMNS = (
    "id",
    "token",
    "kind",
    "company_id",
    "agency_id",
    "partnership_id",
    "is_active",
    "expires_at",
    "partnership__status",
    "company__name",
    "company__logo",
    "company__landing_message",
    "agency__name",
    "agency__license_number",
    "agency__license_expires_on",
    "agency__license_verified_at",
    "agency__contact_email",
    "agency__privacy_policy_url",
)
_landing_sql: str | None = None


def _landing_query() -> str:
    """The look-up's SQL, compiled by the ORM once per process: compiling a four-table
    select_related per cache miss cost ~2 ms of CPU, and the first view of every personal link
    of a mail-out misses (bench/NOTES.md). Its one parameter is the token."""
    global _landing_sql
    if _landing_sql is None:
        marker = "landing-token-marker"
        qs = ReferralLink.objects.unscoped().filter(token=marker).values_list(*_LANDING_COLUMNS)
        sql, params = qs[:1].query.sql_with_params()
        if tuple(params) != (marker,):
            raise RuntimeError(f"unexpected parameters in the landing look-up: {params!r}")
        _landing_sql = sql
    return _landing_sql


def _landing_from_db(token: str, version: str) -> LandingLink | None:
    with connection.cursor() as cursor:
        cursor.execute(_landing_query(), [token])
        row = cursor.fetchone()
    if row is None:
        return None
    data = dict(zip(_LANDING_COLUMNS, row, strict=True))
    logo = data["company__logo"]
    expires_at, license_expires_on = data["expires_at"], data["agency__license_expires_on"]
    return LandingLink(
        id=data["id"],
        token=data["token"],
        kind=data["kind"],
        company_id=data["company_id"],
        agency_id=data["agency_id"],
        partnership_id=data["partnership_id"],
        is_active=bool(data["is_active"]),
        expires_at=_aware(expires_at).timestamp() if expires_at else None,
        partnership_status=data["partnership__status"],
        company_name=data["company__name"],
        company_logo_url=Company._meta.get_field("logo").storage.url(logo) if logo else "",
        company_message=data["company__landing_message"],
        agency_name=data["agency__name"],
        agency_license_number=data["agency__license_number"],
        agency_license_expires_on=(
            _as_date(license_expires_on).isoformat() if license_expires_on else None
        ),
        agency_license_verified=data["agency__license_verified_at"] is not None,
        agency_contact_email=data["agency__contact_email"],
        agency_privacy_policy_url=data["agency__privacy_policy_url"],
        version=version,
    )


def _aware(value: Any) -> dt.datetime:
    """A datetime column as the cursor returns it (aware on PostgreSQL, a string or naive UTC
    datetime on SQLite)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


def _as_date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


class Landing(NamedTuple):
    link: LandingLink | None  # None: unknown token
    captured: clicks.Captured | None  # the view's click; None when none was recorded


def landing_link(token: str) -> LandingLink | None:
    """The link behind a public token, or None (unknown or wrong shape). Cached: this process's
    copy, else the shared copy in Redis, else the database (which fills both)."""
    return landing_visit(token).link


def landing_visit(token: str, view: clicks.PageView | None = None) -> Landing:
    """The landing page's look-up, with its click recorded in the same Redis round trip when the
    link is open. With this process's copy of an open link, the capture checks the copy's
    version; without a copy (a mail-out's first views) or with an out-of-date one, one script
    reads the shared copy and records the click from it (clicks.read_copy); only when no current
    shared copy exists is the database read, the copies kept and the click recorded after."""
    if not TOKEN_RE.match(token or ""):
        return Landing(None, None)
    found = _local_copy(token)
    if isinstance(found, LandingLink) and found.is_open and view is not None:
        captured = view.capture(found, version=found.version)
        if captured.how != clicks.STALE:
            return Landing(found, captured)
    elif found is not None:
        return Landing(_link_or_none(found), None)
    try:
        shared = clicks.read_copy(token, view)
    except redis.RedisError as exc:  # Redis down: the database, and the click written there
        logger.warning("Redis unreachable, reading link %s from the database: %s", token, exc)
        shared = None
    if shared is not None and shared.how != clicks.NO_COPY:
        found = _keep_local(token, _parse_copy(shared.data))
        if shared.how != clicks.NO_CLICK:
            return Landing(_link_or_none(found), clicks.Captured(shared.how, shared.version))
    else:
        found = _from_database(token, None if shared is None else shared.version)
    link = _link_or_none(found)
    if link is None or not link.is_open or view is None:
        return Landing(link, None)
    # Read from the database just now (or open by this process's clock at the script's edge).
    return Landing(link, view.capture(link))


def _local_copy(token: str) -> LandingLink | str | None:
    """This process's copy (a LandingLink or _MISSING), or None when it has none. Without Redis
    (the embedded demo, one process) no capture checks the version: it is checked here."""
    found = _local.get(_cache_key(token))
    if found is not None and not settings.REDIS_URL and not _current(found, landing_version()):
        return None
    return found


def _link_or_none(value: LandingLink | str) -> LandingLink | None:
    return None if value == _MISSING else value  # type: ignore[return-value]


def _parse_copy(data: str) -> LandingLink | str:
    return LandingLink(**json.loads(data)) if data else _MISSING


def _keep_local(token: str, value: LandingLink | str) -> LandingLink | str:
    _local.set(_cache_key(token), value, _ttl(value))
    return value


def _from_database(token: str, version: str | None) -> LandingLink | str:
    """The link read from the database under `version` (read now when not given: before the
    row, so a change that commits in between moves it again), kept here and shared."""
    if version is None:
        version = landing_version()
    with rls.public_transaction():
        value = _landing_from_db(token, version) or _MISSING
    link = _link_or_none(value)
    if settings.REDIS_URL:
        ids = data = ""
        if link is not None:
            ids = clicks.ids_json(link.id, link.company_id, link.agency_id)
            data = json.dumps(asdict(link), separators=(",", ":"))
        try:
            clicks.store_copy(
                token,
                version=version,
                open_until=0.0 if link is None else link.open_until,
                ids=ids,
                data=data,
                ttl=int(_ttl(value)),
            )
        except redis.RedisError:
            logger.warning("Redis unreachable while sharing link %s", token)
    return _keep_local(token, value)


def _current(copy: LandingLink | str, version: str | None) -> bool:
    return version is None or copy == _MISSING or copy.version == version  # type: ignore[union-attr]


def _ttl(value: LandingLink | str) -> float:
    live = value != _MISSING and value.is_open  # type: ignore[union-attr]
    return LIVE_TTL_SECONDS if live else CLOSED_TTL_SECONDS


# Tenant-scoped reads -----------------------------------------------------------------------


def link_list(*, tenant: Any) -> QuerySet[ReferralLink]:
    return (
        ReferralLink.objects.for_tenant(tenant)
        .select_related("partnership", "company", "agency")
        .order_by("-created_at", "-id")
    )


def link_get(*, tenant: Any, link_id: int) -> ReferralLink | None:
    return link_list(tenant=tenant).filter(pk=link_id).first()


def link_candidate_name(link: ReferralLink) -> str:
    return pii.decrypt(link.candidate_name_enc)


def link_candidate_email(link: ReferralLink) -> str:
    return pii.decrypt(link.candidate_email_enc)


def partnerships_for_links(*, company: Any) -> QuerySet[Partnership]:
    """The company's active partnerships (the ones a link can be created on)."""
    return (
        Partnership.objects.for_tenant(company)
        .filter(status=PartnershipStatus.ACTIVE)
        .select_related("agency")
        .order_by("agency__name")
    )


def batch_get(*, tenant: Any, batch_id: int) -> LinkBatch | None:
    return LinkBatch.objects.for_tenant(tenant).filter(pk=batch_id).first()


def batch_rows(*, batch: LinkBatch) -> list[ReferralLink]:
    """The batch's links in file order."""
    links = ReferralLink.objects.for_tenant(batch.company).in_bulk(batch.link_ids)
    return [links[i] for i in batch.link_ids if i in links]


def referral_list(
    *, tenant: Any, status: str | None = None, email: str | None = None
) -> QuerySet[Referral]:
    qs = (
        Referral.objects.for_tenant(tenant)
        .select_related("candidate", "partnership", "company", "agency", "link")
        .order_by("-created_at", "-id")
    )
    if status:
        qs = qs.filter(status=status)
    if email is not None:
        qs = qs.filter(candidate__email_hash=pii.email_hash(email) or "-")
    return qs


def referral_get(*, tenant: Any, referral_id: int) -> Referral | None:
    return referral_list(tenant=tenant).filter(pk=referral_id).first()


def candidate_for_magic(*, candidate_id: int) -> Candidate | None:
    """The candidate behind a signed magic link (the signature is the authorisation)."""
    return Candidate.objects.unscoped().select_related("agency").filter(pk=candidate_id).first()


def candidate_referrals(*, candidate: Candidate) -> QuerySet[Referral]:
    return (
        Referral.objects.for_tenant(candidate.agency)
        .filter(candidate=candidate)
        .select_related("company", "agency")
        .order_by("created_at")
    )


def click_for_uid(*, company_id: int, uid: Any) -> Click | None:
    return Click.objects.unscoped().filter(company_id=company_id, uid=uid).first()
