"""Writes of the referrals app: links, click ingestion, registration, verification, consent
withdrawal, erasure and attribution. One function per use case; each names its side effects."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import psycopg
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from careerrelay.core import rls
from careerrelay.core.audit import audit_record, ip_hash
from careerrelay.core.errors import ApplicationError
from companies.models import Partnership
from referrals import csvio, pii, selectors
from referrals.clicks import ClickEvent
from referrals.consent import consent_texts
from referrals.fraud import registration_hold_reason
from referrals.models import (
    Candidate,
    Click,
    ClickClass,
    Consent,
    LinkBatch,
    LinkKind,
    Referral,
    ReferralLink,
    ReferralStatus,
)

logger = logging.getLogger(__name__)

VERIFY_SALT = "referrals.verify"
MAGIC_SALT = "referrals.magic"
VERIFY_MAX_AGE = 7 * 24 * 3600
MAGIC_MAX_AGE = 365 * 24 * 3600
UNIQUE_WINDOW_SECONDS = 3600


def _user(actor: Any) -> Any:
    """The acting User, or None (anonymous, or an API key acting for its organisation)."""
    from django.contrib.auth import get_user_model

    return actor if isinstance(actor, get_user_model()) else None


def closed_reason_message(reason: str) -> str:
    return {
        "partnership": _("この企業と紹介会社の提携は現在有効ではありません。"),
        "license_unverified": _("紹介会社の有料職業紹介事業の許可が確認されていません。"),
        "license_expired": _("紹介会社の有料職業紹介事業の許可の有効期限が切れています。"),
    }.get(reason, "")


def new_token() -> str:
    """128 random bits, URL-safe (22 characters); carries no personal data."""
    return secrets.token_urlsafe(16)


def link_url(link: ReferralLink | Any) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/r/{link.token}/"


def _check_partnership_open(partnership: Partnership) -> None:
    reason = selectors.partnership_closed_reason(partnership)
    if reason:
        raise ApplicationError(closed_reason_message(reason), field="partnership")


# Links ------------------------------------------------------------------------------------


@transaction.atomic
def link_create(
    *,
    partnership: Partnership,
    label: str,
    kind: str = LinkKind.CAMPAIGN,
    candidate_email: str = "",
    candidate_name: str = "",
    expires_at: dt.datetime | None = None,
    created_by: Any = None,
) -> tuple[ReferralLink, bool]:
    """Create a link on an active partnership of a licensed agency. A personal link for an email
    that already has one on this partnership is returned as is (created=False).
    Side effects: an audit row on creation."""
    _check_partnership_open(partnership)
    label = (label or "").strip()
    if not label:
        raise ApplicationError(_("ラベルを入力してください。"), field="label")
    if len(label) > 120:
        raise ApplicationError(_("ラベルは120文字以内にしてください。"), field="label")
    if kind not in LinkKind.values:
        raise ApplicationError(_("種類が正しくありません。"), field="kind")
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(_("有効期限は未来の日時にしてください。"), field="expires_at")
    email_norm = ""
    if kind == LinkKind.PERSONAL:
        email_norm = pii.normalise_email(candidate_email)
        if not email_norm:
            raise ApplicationError(
                _("個別リンクには候補者のメールアドレスが必要です。"), field="candidate_email"
            )
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_email

        try:
            validate_email(email_norm)
        except ValidationError as exc:
            raise ApplicationError(
                _("メールアドレスの形式が正しくありません。"), field="candidate_email"
            ) from exc
        existing = (
            ReferralLink.objects.for_tenant(partnership.company)
            .filter(
                partnership=partnership,
                kind=LinkKind.PERSONAL,
                candidate_email_hash=pii.keyed_hash("email", email_norm),
            )
            .first()
        )
        if existing is not None:
            return existing, False
    elif candidate_email:
        raise ApplicationError(
            _("キャンペーンリンクには候補者のメールアドレスを指定できません。"),
            field="candidate_email",
        )
    link = ReferralLink.objects.create(
        company=partnership.company,
        agency=partnership.agency,
        partnership=partnership,
        kind=kind,
        label=label,
        token=new_token(),
        candidate_name_enc=pii.encrypt(pii.fold(candidate_name)[:100]),
        candidate_email_enc=pii.encrypt(email_norm),
        candidate_email_hash=pii.keyed_hash("email", email_norm),
        expires_at=expires_at,
        created_by=_user(created_by),
    )
    audit_record(
        actor=_user(created_by),
        tenant=partnership.company,
        action="link.created",
        target=link,
        data={"kind": kind, "partnership": partnership.pk},
    )
    return link, True


@transaction.atomic
def link_update(
    *,
    link: ReferralLink,
    label: str | None = None,
    is_active: bool | None = None,
    actor: Any = None,
) -> ReferralLink:
    """Rename, deactivate or reactivate a link. Side effects: an audit row, the landing cache
    entry dropped on commit."""
    link = ReferralLink.all_objects.select_for_update().get(pk=link.pk)
    changes: dict[str, Any] = {}
    if label is not None:
        label = label.strip()
        if not label or len(label) > 120:
            raise ApplicationError(_("ラベルは1〜120文字で入力してください。"), field="label")
        if label != link.label:
            changes["label"] = label
    if is_active is not None and bool(is_active) != link.is_active:
        changes["is_active"] = bool(is_active)
    if changes:
        for name, value in changes.items():
            setattr(link, name, value)
        link.save(update_fields=list(changes))
        audit_record(
            actor=_user(actor),
            tenant=link.company,
            action="link.updated",
            target=link,
            data=changes,
        )
    return link


class BulkUploadError(ApplicationError):
    def __init__(self, errors: list[tuple[int, str]]) -> None:
        first = errors[0]
        message = (
            _("%(line)s行目: %(message)s") % {"line": first[0], "message": first[1]}
            if first[0]
            else first[1]
        )
        super().__init__(
            message,
            field="file",
            extra={"errors": [{"line": line, "message": msg} for line, msg in errors]},
        )
        self.errors = errors


@transaction.atomic
def links_bulk_create(
    *,
    partnership: Partnership,
    label: str,
    data: bytes,
    filename: str = "",
    created_by: Any = None,
) -> LinkBatch:
    """Personal links for every row of an ATS export. All or nothing: any bad row raises
    BulkUploadError (with every line's problem) and nothing is created. Uploading the same file
    again creates no new link (one personal link per email and partnership).
    Side effects: links, a LinkBatch row, one audit row."""
    _check_partnership_open(partnership)
    label = (label or "").strip() or _("一括作成 %(date)s") % {
        "date": timezone.localdate().isoformat()
    }
    if len(label) > 120:
        raise ApplicationError(_("ラベルは120文字以内にしてください。"), field="label")
    parsed = csvio.parse_candidates(data)
    if parsed.errors:
        raise BulkUploadError(parsed.errors)
    company = partnership.company
    hashes = {row.email: pii.keyed_hash("email", row.email) for row in parsed.rows}
    existing = {
        link.candidate_email_hash: link
        for link in ReferralLink.objects.for_tenant(company).filter(
            partnership=partnership,
            kind=LinkKind.PERSONAL,
            candidate_email_hash__in=set(hashes.values()),
        )
    }
    existing_count = len(existing)
    to_create: dict[str, ReferralLink] = {}
    for row in parsed.rows:
        h = hashes[row.email]
        if h in existing or h in to_create:
            continue
        to_create[h] = ReferralLink(
            company=company,
            agency=partnership.agency,
            partnership=partnership,
            kind=LinkKind.PERSONAL,
            label=label,
            token=new_token(),
            candidate_name_enc=pii.encrypt(row.name),
            candidate_email_enc=pii.encrypt(row.email),
            candidate_email_hash=h,
            created_by=_user(created_by),
        )
    created = ReferralLink.objects.bulk_create(list(to_create.values()))
    by_hash = {**existing, **{link.candidate_email_hash: link for link in created}}
    batch = LinkBatch.objects.create(
        company=company,
        agency=partnership.agency,
        partnership=partnership,
        label=label,
        filename=(filename or "")[:200],
        link_ids=[by_hash[hashes[row.email]].pk for row in parsed.rows],
        created_count=len(created),
        existing_count=existing_count,
        created_by=_user(created_by),
    )
    audit_record(
        actor=_user(created_by),
        tenant=company,
        action="link.bulk_created",
        target=batch,
        data={"created": len(created), "existing": existing_count, "rows": len(parsed.rows)},
    )
    return batch


def batch_csv(*, batch: LinkBatch, encoding: str = "utf-8-sig") -> bytes:
    rows = [
        (
            pii.decrypt(link.candidate_name_enc),
            pii.decrypt(link.candidate_email_enc),
            link_url(link),
        )
        for link in selectors.batch_rows(batch=batch)
    ]
    return csvio.write_links(rows, encoding=encoding)


# Clicks -----------------------------------------------------------------------------------


def _aware(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC)


CLICK_CLASSES = frozenset(ClickClass.values)
_link_tenants: dict[int, tuple[int, int]] = {}


def _link_tenant_keys(link_ids: set[int]) -> dict[int, tuple[int, int]]:
    """(company_id, agency_id) per link id; a link never changes owners, so this is memoised
    per process (bounded)."""
    missing = link_ids - _link_tenants.keys()
    if missing:
        if len(_link_tenants) > 100_000:
            _link_tenants.clear()
        for pk, company_id, agency_id in (
            ReferralLink.objects.unscoped()
            .filter(pk__in=missing)
            .values_list("pk", "company_id", "agency_id")
        ):
            _link_tenants[pk] = (company_id, agency_id)
    return {pk: _link_tenants[pk] for pk in link_ids if pk in _link_tenants}


CLICK_COLUMNS = (
    "uid",
    "company_id",
    "agency_id",
    "link_id",
    "clicked_at",
    "classification",
    "is_unique",
    "visitor_hash",
)


def _binding_cursor() -> Any:
    """A cursor on Django's connection that binds parameters on the server, for the drain's
    1,000-element arrays: sent as binary (`%b`), they cost psycopg a few µs per click less than
    as text, which its Python array dumper quotes element by element (bench/NOTES.md). Django's
    wrapper keeps its error translation, execute wrappers and query log."""
    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


def _insert_clicks(columns: list[list[Any]]) -> list[int]:
    """Insert the rows, given as one list per CLICK_COLUMNS entry, ignoring uids already stored;
    returns the referrals waiting for one of these clicks (no click yet, its uid in their cookie).
    On PostgreSQL that is one statement, atomic by itself, with the waiting referrals read in the
    same round trip (per batch: no BEGIN, COMMIT or second query to wait for). Elsewhere
    bulk_create and a query."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            Click.objects.bulk_create(
                [
                    Click(**dict(zip(CLICK_COLUMNS, row, strict=True)))
                    for row in zip(*columns, strict=True)
                ],
                ignore_conflicts=True,
                batch_size=500,
            )
        return list(
            Referral.objects.unscoped()
            .filter(click_uid__in=columns[0], click__isnull=True)
            .values_list("pk", flat=True)
        )
    # A data-modifying WITH runs exactly once, to completion, whether or not it is read; the
    # referral look-up does not depend on it (the clicks' own rows are never needed here).
    sql = (
        f'WITH inserted AS (INSERT INTO "{Click._meta.db_table}" '  # noqa: S608
        f"({', '.join(CLICK_COLUMNS)}) "
        "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::bigint[], %b::bigint[], "
        "%b::timestamptz[], %b::varchar[], %b::boolean[], %b::varchar[]){conflict}) "
        f'SELECT id FROM "{Referral._meta.db_table}" '
        "WHERE click_id IS NULL AND click_uid = ANY(%b::uuid[]) ORDER BY id"
    )
    params = [*columns, columns[0]]
    with _binding_cursor() as cursor:
        if not connection.in_atomic_block:
            # A plain INSERT first: ON CONFLICT's speculative insertion costs ~30 % more per row
            # (EXPLAIN ANALYZE: 14.7 vs 11.1 ms per 1,000), and a stored uid is rare (a batch
            # re-processed after a crash, a click also written while Redis timed out). The
            # statement is its own transaction here, so a conflict leaves nothing behind. Inside
            # a caller's transaction it would abort it: ON CONFLICT straight away there.
            try:
                cursor.execute(sql.format(conflict=""), params)
                return [pk for (pk,) in cursor.fetchall()]
            except IntegrityError as exc:
                if not isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
                    raise
        cursor.execute(sql.format(conflict=" ON CONFLICT (uid) DO NOTHING"), params)
        return [pk for (pk,) in cursor.fetchall()]


def _unique_views_before(
    humans: list[ClickEvent], *, skip: set[str]
) -> dict[tuple[int, str], list[float]]:
    """The times of the unique views already stored for the (link, visitor) pairs of `humans`
    (sorted by time) within the hour before the first of them, up to the last; rows whose uid is
    in `skip` (a re-processed batch's own rows) are left out."""
    since = _aware(humans[0].ts - UNIQUE_WINDOW_SECONDS)
    until = _aware(humans[-1].ts)
    pairs = {(e.link_id, e.visitor_hash) for e in humans}
    if connection.vendor == "postgresql":
        # One index probe per pair (click_visitor_unique_idx), reading only unique views.
        sql = (
            "SELECT c.uid::text, c.link_id, c.visitor_hash, c.clicked_at "  # noqa: S608
            "FROM unnest(%b::bigint[], %b::varchar[]) AS v(link_id, visitor_hash) "
            f'JOIN "{Click._meta.db_table}" AS c '
            "ON c.link_id = v.link_id AND c.visitor_hash = v.visitor_hash "
            "WHERE c.is_unique AND c.clicked_at >= %b AND c.clicked_at <= %b"
        )
        link_ids, visitors = (list(column) for column in zip(*pairs, strict=True))
        with _binding_cursor() as cursor:
            cursor.execute(sql, [link_ids, visitors, since, until])
            found = cursor.fetchall()
    else:
        found = [
            (str(uid), link_id, vhash, at)
            for uid, link_id, vhash, at in Click.objects.unscoped()
            .filter(
                link_id__in={link_id for link_id, _ in pairs},
                visitor_hash__in={vhash for _, vhash in pairs},
                is_unique=True,
                clicked_at__gte=since,
                clicked_at__lte=until,
            )
            .values_list("uid", "link_id", "visitor_hash", "clicked_at")
        ]
    seen: dict[tuple[int, str], list[float]] = defaultdict(list)
    for uid, link_id, vhash, at in found:
        if uid not in skip:
            seen[(link_id, vhash)].append(at.timestamp())
    return seen


def clicks_ingest(events: list[ClickEvent]) -> int:
    """Insert click events (idempotent on the uid) with their uniqueness: a human view is unique
    unless the same visitor had a unique view of the same link within the hour before. Bots,
    scanners and HEAD requests are stored with their classification and never unique.
    Side effects: Click rows (one bulk insert); referrals waiting for these clicks are
    attributed. Returns the number of rows handed to the insert."""
    if not events:
        return 0
    link_rows = _link_tenant_keys({e.link_id for e in events})
    events = sorted((e for e in events if e.link_id in link_rows), key=attrgetter("ts"))
    if not events:
        return 0
    human = ClickClass.HUMAN.value
    humans = [e for e in events if e.classification == human]
    seen = _unique_views_before(humans, skip={e.uid for e in events}) if humans else {}
    columns: list[list[Any]] = [[] for _ in CLICK_COLUMNS]
    uids, company_ids, agency_ids, link_ids, times, classes, uniques, visitors = columns
    window = UNIQUE_WINDOW_SECONDS
    for e in events:
        unique = False
        classification = e.classification
        if classification == human:
            before = seen.setdefault((e.link_id, e.visitor_hash), [])
            unique = not any(e.ts - window < t <= e.ts for t in before)
            if unique:
                before.append(e.ts)
        elif classification not in CLICK_CLASSES:
            classification = ClickClass.BOT.value
        company_id, agency_id = link_rows[e.link_id]
        uids.append(e.uid)
        company_ids.append(company_id)
        agency_ids.append(agency_id)
        link_ids.append(e.link_id)
        times.append(_aware(e.ts))
        classes.append(classification)
        uniques.append(unique)
        visitors.append(e.visitor_hash)
    for referral_id in _insert_clicks(columns):
        referral_attribute(referral_id=referral_id)
    return len(uids)


def click_write_sync(event: ClickEvent) -> None:
    """The Redis-down path: write the click row on the request itself."""
    with rls.public_transaction():
        clicks_ingest([event])


# Registration -----------------------------------------------------------------------------


@dataclass
class Registration:
    referral: Referral
    candidate: Candidate
    created: bool

    @property
    def magic_token(self) -> str:
        return magic_token(candidate=self.candidate)


def magic_token(*, candidate: Candidate) -> str:
    return signing.dumps({"c": candidate.pk}, salt=MAGIC_SALT, compress=True)


def verify_token(*, candidate: Candidate) -> str:
    return signing.dumps({"c": candidate.pk}, salt=VERIFY_SALT, compress=True)


def read_signed(token: str, *, salt: str, max_age: int) -> int | None:
    """The candidate id in a signed token, or None (bad signature, tampered or too old)."""
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
        return int(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def _get_or_create_candidate(*, agency: Any, email_hash: str, **fields: Any) -> Candidate:
    candidate = (
        Candidate.objects.for_tenant(agency)
        .select_for_update()
        .filter(email_hash=email_hash)
        .first()
    )
    if candidate is not None:
        return candidate
    try:
        with transaction.atomic():
            return Candidate.objects.create(agency=agency, email_hash=email_hash, **fields)
    except IntegrityError:
        # Registered concurrently: take the row the other request created.
        return Candidate.objects.for_tenant(agency).select_for_update().get(email_hash=email_hash)


@transaction.atomic
def candidate_register(
    *,
    link_id: int,
    name: str,
    email: str,
    phone: str,
    desired_role: str,
    prefecture: str,
    consent_privacy: bool,
    consent_third_party: bool,
    ip: str = "",
    click_uid: str | None = None,
    language: str = "ja",
    notify: bool = True,
) -> Registration:
    """Register a candidate through a link, with the agency of the link's partnership.

    Rules: both consents required; the link must be active, unexpired, on an active partnership
    of a verified, unexpired agency licence. One candidate per agency (by email HMAC), one
    referral per (partnership, candidate): a replayed registration returns the existing referral
    and writes nothing. Per agency a candidate counts for the first company within
    ATTRIBUTION_WINDOW_DAYS; later referrals are kept as `duplicate`. Fraud checks may hold it.
    Side effects: Candidate (created or refreshed), Referral, Consent receipt, audit row; on
    commit the verification email and the click attribution tasks are enqueued (unless
    `notify=False`, used by the demo data that writes its own history)."""
    if not (consent_privacy and consent_third_party):
        raise ApplicationError(_("同意が必要です。"), field="consent_third_party")
    # No row lock on the link: every registration of a campaign link would queue behind it.
    link = (
        ReferralLink.objects.unscoped()
        .select_related("partnership", "company", "agency")
        .filter(pk=link_id)
        .first()
    )
    if link is None:
        raise ApplicationError(_("リンクが見つかりません。"), status_code=404)
    if not link.is_active or (link.expires_at is not None and link.expires_at <= timezone.now()):
        raise ApplicationError(_("このリンクは無効です。"), status_code=410)
    partnership, agency, company = link.partnership, link.agency, link.company
    reason = selectors.partnership_closed_reason(partnership)
    if reason:
        raise ApplicationError(closed_reason_message(reason), status_code=409)

    email_norm = pii.normalise_email(email)
    email_h = pii.keyed_hash("email", email_norm)
    phone_norm = pii.normalise_phone(phone)
    name = pii.fold(name)
    candidate = _get_or_create_candidate(
        agency=agency,
        email_hash=email_h,
        name_enc=pii.encrypt(name),
        email_enc=pii.encrypt(email_norm),
        phone_enc=pii.encrypt(phone_norm),
        phone_hash=pii.keyed_hash("phone", phone_norm),
        desired_role=desired_role,
        prefecture=prefecture,
        language=language,
    )
    existing = (
        Referral.objects.for_tenant(agency)
        .filter(partnership=partnership, candidate=candidate)
        .first()
    )
    if existing is not None:
        return Registration(referral=existing, candidate=candidate, created=False)

    if candidate.consent_withdrawn_at is not None or not candidate.name_enc:
        # A returning candidate consents afresh: refresh what they entered.
        candidate.name_enc = pii.encrypt(name)
        candidate.email_enc = pii.encrypt(email_norm)
        candidate.phone_enc = pii.encrypt(phone_norm)
        candidate.phone_hash = pii.keyed_hash("phone", phone_norm)
        candidate.desired_role = desired_role
        candidate.prefecture = prefecture
        candidate.consent_withdrawn_at = None
        candidate.save(
            update_fields=[
                "name_enc",
                "email_enc",
                "phone_enc",
                "phone_hash",
                "desired_role",
                "prefecture",
                "consent_withdrawn_at",
            ]
        )

    now = timezone.now()
    window_start = now - dt.timedelta(days=settings.ATTRIBUTION_WINDOW_DAYS)
    first_touch = (
        Referral.objects.for_tenant(agency)
        .filter(candidate=candidate, created_at__gte=window_start)
        .exclude(company=company)
        .exclude(status__in=[ReferralStatus.DUPLICATE, ReferralStatus.WITHDRAWN])
        .order_by("created_at", "id")
        .first()
    )
    hold_reason = registration_hold_reason(partnership=partnership, email_normalised=email_norm)
    if first_touch is not None:
        status = ReferralStatus.DUPLICATE
    elif hold_reason:
        status = ReferralStatus.HELD
    else:
        status = ReferralStatus.NEW
    click_uuid = None
    if click_uid:
        try:
            click_uuid = uuid.UUID(str(click_uid))
        except ValueError:
            click_uuid = None
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                company=company,
                agency=agency,
                partnership=partnership,
                link=link,
                candidate=candidate,
                click_uid=click_uuid,
                status=status,
                hold_reason=hold_reason[:200],
                duplicate_of=first_touch,
            )
    except IntegrityError:
        # The same form submitted twice at once: the other request registered it.
        existing = (
            Referral.objects.for_tenant(agency)
            .filter(partnership=partnership, candidate=candidate)
            .first()
        )
        if existing is None:
            raise
        return Registration(referral=existing, candidate=candidate, created=False)
    texts = consent_texts(
        company_name=company.name,
        agency_name=agency.name,
        agency_license_number=agency.license_number,
    )
    Consent.objects.create(
        company=company,
        agency=agency,
        candidate=candidate,
        referral=referral,
        privacy_version=texts.privacy_version,
        third_party_version=texts.third_party_version,
        text_sha256=texts.sha256,
        agency_name=agency.name,
        agency_license_number=agency.license_number,
        consented_at=now,
        ip_hash=ip_hash(ip),
        retain_until=_add_years(timezone.localdate(), settings.CONSENT_RETENTION_YEARS),
    )
    audit_record(
        actor=None,
        tenant=agency,
        action="referral.registered",
        target=referral,
        data={"company": company.slug, "status": status},
    )
    from referrals import tasks

    referral_id, candidate_id = referral.pk, candidate.pk
    if notify:
        transaction.on_commit(lambda: tasks.enqueue_after_registration(referral_id, candidate_id))
    return Registration(referral=referral, candidate=candidate, created=True)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def candidate_verify(*, candidate_id: int) -> Candidate | None:
    """Mark the candidate's email verified (idempotent). Side effects: email_verified_at."""
    candidate = Candidate.objects.unscoped().select_for_update().filter(pk=candidate_id).first()
    if candidate is None or candidate.erased_at is not None:
        return None
    if candidate.email_verified_at is None:
        candidate.email_verified_at = timezone.now()
        candidate.save(update_fields=["email_verified_at"])
    return candidate


@transaction.atomic
def candidate_withdraw(*, candidate: Candidate) -> Candidate:
    """The candidate withdraws consent (APPI 利用停止). Side effects: every consent receipt gets
    withdrawn_at, open referrals (new, held, duplicate) become `withdrawn`; qualified and
    disqualified ones keep their status so counts and the ledger stay as they were; audit row."""
    candidate = Candidate.objects.unscoped().select_for_update().get(pk=candidate.pk)
    now = timezone.now()
    if candidate.consent_withdrawn_at is None:
        candidate.consent_withdrawn_at = now
        candidate.save(update_fields=["consent_withdrawn_at"])
    Consent.objects.for_tenant(candidate.agency).filter(
        candidate=candidate, withdrawn_at__isnull=True
    ).update(withdrawn_at=now)
    changed = (
        Referral.objects.for_tenant(candidate.agency)
        .filter(
            candidate=candidate,
            status__in=[ReferralStatus.NEW, ReferralStatus.HELD, ReferralStatus.DUPLICATE],
        )
        .update(status=ReferralStatus.WITHDRAWN)
    )
    audit_record(
        actor=None,
        tenant=candidate.agency,
        action="candidate.consent_withdrawn",
        target=candidate,
        data={"referrals_withdrawn": changed},
    )
    return candidate


@transaction.atomic
def candidate_erase(*, candidate: Candidate) -> Candidate:
    """Erase the candidate's personal data (APPI 消去): consent is withdrawn first, then name,
    email, phone, their hashes, desired role and prefecture are blanked, and so are the name and
    email on HR's personal link for the same address. Referral rows, consent receipts (without
    PII), counts and ledger entries stay. Side effects: audit row."""
    candidate = candidate_withdraw(candidate=candidate)
    if candidate.email_hash:
        # HR's personal link for the same address holds the name and email too (from its ATS
        # export); its keyed hash would re-identify the person, so it is forgotten as well. The
        # hash becomes a per-link tombstone: the personal-link unique constraint still holds.
        links = ReferralLink.objects.for_tenant(candidate.agency).filter(
            kind=LinkKind.PERSONAL, candidate_email_hash=candidate.email_hash
        )
        links.update(
            candidate_name_enc="",
            candidate_email_enc="",
            candidate_email_hash=Concat(Value("erased:"), Cast("pk", CharField())),
        )
    candidate.name_enc = ""
    candidate.email_enc = ""
    candidate.email_hash = ""
    candidate.phone_enc = ""
    candidate.phone_hash = ""
    candidate.desired_role = ""
    candidate.prefecture = ""
    candidate.erased_at = candidate.erased_at or timezone.now()
    candidate.save(
        update_fields=[
            "name_enc",
            "email_enc",
            "email_hash",
            "phone_enc",
            "phone_hash",
            "desired_role",
            "prefecture",
            "erased_at",
        ]
    )
    audit_record(actor=None, tenant=candidate.agency, action="candidate.erased", target=candidate)
    return candidate


@transaction.atomic
def referral_attribute(*, referral_id: int) -> bool:
    """Attribute a referral to the click in its cookie (same link): the click, the seconds from
    click to registration, attributed_at. True when done (also when there is no click to wait
    for); False while the click is not drained yet. A referral given up on (link only) still
    gets its click if the click arrives later (the drain calls this for waiting referrals)."""
    referral = Referral.objects.unscoped().select_for_update().filter(pk=referral_id).first()
    if referral is None or referral.click_id is not None:
        return True
    if referral.click_uid is None:
        if referral.attributed_at is None:
            referral.attributed_at = timezone.now()
            referral.save(update_fields=["attributed_at"])
        return True
    click = selectors.click_for_uid(company_id=referral.company_id, uid=referral.click_uid)
    if click is None:
        return False
    if click.link_id == referral.link_id:
        referral.click = click
        referral.seconds_to_register = max(
            0, int((referral.created_at - click.clicked_at).total_seconds())
        )
    referral.attributed_at = timezone.now()
    referral.save(update_fields=["click", "seconds_to_register", "attributed_at"])
    return True


@transaction.atomic
def referral_attribute_give_up(*, referral_id: int) -> None:
    """The click never arrived: mark the referral attributed to its link only."""
    Referral.objects.unscoped().filter(pk=referral_id, attributed_at__isnull=True).update(
        attributed_at=timezone.now()
    )
