"""Demo step (after companies): referral links, six months of clicks and referrals for the three
demo companies, so the dashboards have something true to show.

- Each company gets a campaign link and a few personal links (one per rejected candidate),
  dated before their first click; the partnership is dated ~15 months back.
- Clicks over the last ~180 days: mostly people, some repeat views, mail-security scanners,
  bots and HEAD requests, ingested through the same path as the Redis drain.
- Referrals with Japanese names through the real registration service (consent receipts
  included), each tied to a human click minutes before it: maker-b 24 (the ledger step
  qualifies exactly 20), startup-a 10 (7 qualified: "7 / 10"; one is a duplicate of a maker-b
  registration within 365 days), it-c 5 (3 qualified).

Idempotent: links are looked up by label/email, click ids are deterministic (uuid5) and inserted
with ignore-conflicts, and a registration that exists is returned as is.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from referrals import clicks, services
from referrals.models import Click, ClickClass, LinkKind, Referral, ReferralLink

CAMPAIGN_LABEL = "2026年度 中途採用（お見送りの方へのご案内）"
PERSONAL_LABEL = "2026年度 新卒採用 最終面接（個別）"
NAMESPACE = uuid.UUID("5b0c2f36-9d43-4d0e-9a57-2f1f8f0f6a11")
# slug: (referrals, campaign clicks)
PLAN = {"maker-b": (24, 900), "startup-a": (9, 380), "it-c": (5, 220)}
SURNAMES = [
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"),
    ("伊藤", "ito"), ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"),
    ("小林", "kobayashi"), ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"),
    ("佐々木", "sasaki"), ("山口", "yamaguchi"), ("松本", "matsumoto"), ("井上", "inoue"),
    ("木村", "kimura"), ("林", "hayashi"), ("斎藤", "saito"), ("清水", "shimizu"),
]  # fmt: skip
GIVEN = [
    ("大輔", "daisuke"), ("美咲", "misaki"), ("翔太", "shota"), ("陽菜", "hina"),
    ("拓也", "takuya"), ("結衣", "yui"), ("健一", "kenichi"), ("彩", "aya"),
    ("亮", "ryo"), ("真由美", "mayumi"), ("直人", "naoto"), ("愛", "ai"),
    ("和也", "kazuya"), ("奈々", "nana"), ("剛", "tsuyoshi"), ("千尋", "chihiro"),
]  # fmt: skip
ROLES = [
    "法人営業", "生産技術", "品質保証", "経理", "人事", "Webエンジニア", "データアナリスト",
    "カスタマーサクセス", "マーケティング", "機械設計", "事務", "プロジェクトマネージャー",
]  # fmt: skip
PREFECTURES = ["東京都", "神奈川県", "埼玉県", "千葉県", "大阪府", "愛知県", "福岡県", "北海道"]
PERSONAL = {
    "maker-b": [("小川 悠人", "yuto.ogawa@example.jp"), ("藤田 葵", "aoi.fujita@example.jp")],
    "startup-a": [("岡田 蓮", "ren.okada@example.jp"), ("後藤 凛", "rin.goto@example.jp")],
    "it-c": [("長谷川 湊", "minato.hasegawa@example.jp"), ("村上 紬", "tsumugi.m@example.jp")],
}  # fmt: skip
HUMAN_UAS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
]
SCANNER_UAS = ["Mozilla/5.0 BingPreview/1.0b", "Proofpoint URL Defense/1.0", "Mimecast-URL-Protect"]
BOT_UAS = ["Mozilla/5.0 (compatible; Googlebot/2.1)", "curl/8.5.0", ""]
DAYS = 180
PARTNERSHIP_DAYS = 450  # the partnership's start, in days before the seeding


def _link(partnership: Any, *, label: str, kind: str = LinkKind.CAMPAIGN, **extra: Any) -> Any:
    qs = ReferralLink.objects.for_tenant(partnership.company).filter(
        partnership=partnership, kind=kind
    )
    if kind == LinkKind.CAMPAIGN:
        found = qs.filter(label=label).first()
        if found is not None:
            return found
    link, _created = services.link_create(partnership=partnership, label=label, kind=kind, **extra)
    return link


def _click_events(link: Any, count: int, rng: random.Random, now: float) -> list[Any]:
    """Deterministic ids, so a re-run inserts nothing new."""
    events: list[Any] = []
    previous_ua, previous_ip = "", ""
    visitors = [f"198.51.{rng.randrange(256)}.{rng.randrange(256)}" for _ in range(count)]
    for i in range(count):
        roll = rng.random()
        method = "GET"
        # Weighted towards recent weeks (rejections go out continuously).
        ts = now - DAYS * 86400 * (rng.random() ** 1.6) - rng.random() * 60
        if roll < 0.74:
            ua, ip = rng.choice(HUMAN_UAS), visitors[i]
            if events and rng.random() < 0.2:
                # The same person opens the link again a few minutes later: not unique.
                previous = events[-1]
                ua, ip = previous_ua, previous_ip
                ts = previous.ts + rng.randrange(30, 1800)
        elif roll < 0.88:
            ua, ip = rng.choice(SCANNER_UAS), f"40.94.{rng.randrange(256)}.{rng.randrange(256)}"
        elif roll < 0.96:
            ua, ip = rng.choice(BOT_UAS), f"66.249.{rng.randrange(256)}.{rng.randrange(256)}"
        else:
            ua, ip, method = rng.choice(HUMAN_UAS), visitors[i], "HEAD"
        previous_ua, previous_ip = ua, ip
        event = clicks.new_event(
            link=link, method=method, user_agent=ua, ip=ip, now=min(ts, now - 60)
        )
        events.append(
            clicks.ClickEvent(
                **{**event.__dict__, "uid": str(uuid.uuid5(NAMESPACE, f"{link.token}:{i}"))}
            )
        )
    return events


def _person(rng: random.Random, n: int) -> tuple[str, str]:
    sur, sur_r = SURNAMES[n % len(SURNAMES)]
    given, given_r = GIVEN[(n * 7 + 3) % len(GIVEN)]
    return f"{sur} {given}", f"{given_r}.{sur_r}{n:02d}@example.jp"


def _register(
    *, link: Any, name: str, email: str, rng: random.Random, click: Click | None
) -> Referral:
    registration = services.candidate_register(
        link_id=link.pk,
        name=name,
        email=email,
        phone=f"090-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}",
        desired_role=rng.choice(ROLES),
        prefecture=rng.choice(PREFECTURES),
        consent_privacy=True,
        consent_third_party=True,
        ip=f"203.0.113.{rng.randrange(1, 255)}",
        notify=False,
    )
    referral = registration.referral
    if registration.created and click is not None:
        delay = rng.randrange(45, 900)
        created_at = click.clicked_at + dt.timedelta(seconds=delay)
        Referral.all_objects.filter(pk=referral.pk).update(
            created_at=created_at,
            click=click,
            click_uid=click.uid,
            seconds_to_register=delay,
            attributed_at=created_at,
        )
        referral.candidate.__class__.all_objects.filter(pk=referral.candidate_id).update(
            created_at=created_at
        )
        referral.consents.update(consented_at=created_at)
        if rng.random() < 0.85:
            services.candidate_verify(candidate_id=referral.candidate_id)
        referral.refresh_from_db()
    return referral


def _backdate(partnership: Any, *, links: list[Any]) -> None:
    """Demo history: the partnership began well before its first referral (the agencies step
    places candidates registered ~14 months ago) and the links before their first click.
    Only moves dates back, so a re-run changes nothing."""
    now = timezone.now()
    links_since = now - dt.timedelta(days=DAYS + 12)
    ReferralLink.all_objects.filter(
        pk__in=[link.pk for link in links], created_at__gt=links_since
    ).update(created_at=links_since)
    since = now - dt.timedelta(days=PARTNERSHIP_DAYS)
    type(partnership).all_objects.filter(pk=partnership.pk, created_at__gt=since).update(
        created_at=since
    )


@transaction.atomic
def seed(ctx: dict[str, Any]) -> None:
    partnerships = ctx.get("partnerships") or {}
    if not partnerships:
        return
    now = timezone.now().timestamp()
    by_company: dict[str, list[Referral]] = {}
    made_clicks = 0
    for slug, (referral_count, click_count) in PLAN.items():
        partnership = partnerships.get(slug)
        if partnership is None:
            continue
        rng = random.Random(f"careerrelay-demo-{slug}")  # noqa: S311 - demo data, not security
        campaign = _link(partnership, label=CAMPAIGN_LABEL)
        personal = [
            _link(
                partnership,
                label=PERSONAL_LABEL,
                kind=LinkKind.PERSONAL,
                candidate_name=name,
                candidate_email=email,
            )
            for name, email in PERSONAL[slug]
        ]
        events = _click_events(campaign, click_count, rng, now)
        for link in personal:
            events += _click_events(link, 3, rng, now)
        before = Click.objects.for_tenant(partnership.company).count()
        services.clicks_ingest(events)
        made_clicks += Click.objects.for_tenant(partnership.company).count() - before

        humans = list(
            Click.objects.for_tenant(partnership.company)
            .filter(link=campaign, classification=ClickClass.HUMAN, is_unique=True)
            .order_by("clicked_at")
        )
        step = max(1, len(humans) // (referral_count + 1))
        referrals = []
        for i in range(referral_count):
            name, email = _person(rng, i + {"maker-b": 0, "startup-a": 40, "it-c": 80}[slug])
            click = humans[min(len(humans) - 1, (i + 1) * step)] if humans else None
            referrals.append(_register(link=campaign, name=name, email=email, rng=rng, click=click))
        # One personal-link registration per company.
        name, email = PERSONAL[slug][0]
        personal_clicks = Click.objects.for_tenant(partnership.company).filter(
            link=personal[0], classification=ClickClass.HUMAN
        )
        referrals.append(
            _register(
                link=personal[0],
                name=name,
                email=email,
                rng=rng,
                click=personal_clicks.order_by("clicked_at").first(),
            )
        )
        by_company[slug] = referrals
        _backdate(partnership, links=[campaign, *personal])
    # A candidate first referred by maker-b registers again through startup-a within 365 days:
    # kept, marked duplicate, earns nothing.
    if "maker-b" in by_company and "startup-a" in partnerships:
        name, email = _person(random.Random(0), 0)  # noqa: S311
        campaign = _link(partnerships["startup-a"], label=CAMPAIGN_LABEL)
        by_company.setdefault("startup-a", []).append(
            _register(link=campaign, name=name, email=email, rng=random.Random(1), click=None)  # noqa: S311
        )
    ctx["referrals"] = by_company
    out = ctx.get("stdout")
    if out is not None:
        counts = ", ".join(f"{slug} {len(rows)}" for slug, rows in by_company.items())
        out.write(f"referrals: links, {made_clicks} new clicks, referrals ({counts})")
