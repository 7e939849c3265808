"""Concurrency proofs on real PostgreSQL: threads, each with its own database connection,
hammer the ledger services; the totals must come out exact."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from agencies.models import Placement
from careerrelay.core.errors import ApplicationError
from credits.models import EntryKind, LedgerTransaction
from credits.services import free_hire_redeem, referral_disqualify, referral_qualify
from referrals.models import Referral
from tests.credits.helpers import assert_balances_match_entries, balances, make_referrals
from tests.factories import PartnershipFactory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def _connect() -> None:
    """Open this thread's own connection before the race starts. Other test runs may share
    the server: wait for a free slot rather than fail on `too many clients` (only while
    connecting; no query of the test is ever retried)."""
    for attempt in range(60):
        try:
            connection.ensure_connection()
            return
        except OperationalError as exc:
            if "too many clients" not in str(exc) or attempt == 59:
                raise
            time.sleep(0.5)


def _threaded(n_threads: int, items: list[Any], fn: Callable[[Any], Any]) -> list[Any]:
    """Split items into n_threads chunks; each thread works its chunk on its own connection
    and closes it. Returns per-item results (exceptions included) in item order."""
    chunks = [items[i::n_threads] for i in range(n_threads)]
    results: dict[int, Any] = {}
    barrier = threading.Barrier(n_threads)

    def work(index: int) -> None:
        try:
            try:
                _connect()
                barrier.wait(timeout=120)
            except Exception as exc:  # reported per item, so the test shows it
                barrier.abort()
                for j in range(len(chunks[index])):
                    results[j * n_threads + index] = exc
                return
            for j, item in enumerate(chunks[index]):
                try:
                    results[j * n_threads + index] = fn(item)
                except Exception as exc:  # asserted on by the caller
                    results[j * n_threads + index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return [results[i] for i in range(len(items))]


def test_1000_qualifications_from_50_threads_grant_exactly_100_free_hires(
    transactional_db: Any,
) -> None:
    partnership = PartnershipFactory()
    referrals = make_referrals(partnership, 1000)
    results = _threaded(50, referrals, lambda r: referral_qualify(referral=r))
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    b = balances(partnership)
    assert b["points"] == 0
    assert b["free_hires"] == 100
    assert (
        Referral.objects.for_tenant(partnership.agency).filter(status="qualified").count() == 1000
    )
    txs = LedgerTransaction.objects.for_tenant(partnership.company)
    assert txs.filter(kind=EntryKind.QUALIFY).count() == 1000
    assert txs.filter(kind=EntryKind.CONVERT).count() == 100
    keys = set(txs.filter(kind=EntryKind.CONVERT).values_list("idempotency_key", flat=True))
    assert keys == {f"convert:{partnership.pk}:{n}" for n in range(1, 101)}
    assert_balances_match_entries(partnership)


def test_the_same_referral_qualified_1000_times_concurrently_earns_one_point(
    transactional_db: Any,
) -> None:
    partnership = PartnershipFactory()
    (referral,) = make_referrals(partnership, 1)
    results = _threaded(50, [referral] * 1000, lambda r: referral_qualify(referral=r))
    assert [r for r in results if isinstance(r, Exception)] == []
    assert balances(partnership)["points"] == 1
    assert LedgerTransaction.objects.for_tenant(partnership.company).count() == 1
    referral.refresh_from_db()
    assert (referral.status, referral.qualification_count) == ("qualified", 1)
    assert_balances_match_entries(partnership)


def _expected_after(ops: list[tuple[str, int]], threshold: int) -> tuple[int, int]:
    """(net points, free hires earned) after the ops, by the rules of the design: a point per
    qualification, minus one per disqualification of a qualified referral; a conversion each
    time net reaches a new multiple of the threshold above its previous peak (a free hire
    granted is never clawed back, a negative balance is paid back first)."""
    net = peak = 0
    for op, _ in ops:
        net += 1 if op == "q" else -1
        peak = max(peak, net)
    return net, peak // threshold


def test_600_qualifications_and_200_disqualifications_in_random_order(db: Any) -> None:
    # Sequential on purpose: the invariant is checked after every single step.
    partnership = PartnershipFactory()
    referrals = make_referrals(partnership, 600)
    rng = random.Random(20261129)
    to_disqualify = set(rng.sample(range(600), 200))
    # A random interleaving in which each disqualification follows its referral's qualification.
    pending = list(range(600))
    rng.shuffle(pending)
    qualified: list[int] = []
    ops: list[tuple[str, int]] = []
    while pending or any(i in to_disqualify for i in qualified):
        can_disq = [i for i in qualified if i in to_disqualify]
        if pending and (not can_disq or rng.random() < 0.75):
            i = pending.pop()
            ops.append(("q", i))
            qualified.append(i)
        else:
            i = rng.choice(can_disq)
            to_disqualify.discard(i)
            ops.append(("d", i))
    assert len(ops) == 800

    net = peak = 0
    for step, (op, i) in enumerate(ops, 1):
        if op == "q":
            referral_qualify(referral=referrals[i])
            net += 1
        else:
            referral_disqualify(referral=referrals[i], reason="テストによる無効化")
            net -= 1
        peak = max(peak, net)
        b = balances(partnership)
        earned = b["free_hires"]
        assert earned == peak // 10, step
        assert b["points"] == net - 10 * earned, step
    assert net == 400
    assert_balances_match_entries(partnership)


def test_qualifications_and_disqualifications_from_20_threads_stay_consistent(
    transactional_db: Any,
) -> None:
    partnership = PartnershipFactory()
    referrals = make_referrals(partnership, 300)
    for r in referrals[:100]:
        referral_qualify(referral=r)
    # 200 new qualifications race 100 disqualifications of the first 100.
    work = [("q", r) for r in referrals[100:]] + [("d", r) for r in referrals[:100]]
    random.Random(7).shuffle(work)

    def apply(item: tuple[str, Referral]) -> Referral:
        op, r = item
        if op == "q":
            return referral_qualify(referral=r)
        return referral_disqualify(referral=r, reason="並行テスト")

    results = _threaded(20, work, apply)
    assert [r for r in results if isinstance(r, Exception)] == []
    b = balances(partnership)
    converts = LedgerTransaction.objects.for_tenant(partnership.company).filter(kind="convert")
    # Net 200 points; between 20 (all disqualifications first) and 30 (peak 300) conversions.
    assert b["free_hires"] == converts.count()
    assert 20 <= b["free_hires"] <= 30
    assert b["points"] == 200 - 10 * b["free_hires"]
    assert_balances_match_entries(partnership)


def test_100_concurrent_redemptions_of_10_free_hires_exactly_10_succeed(
    transactional_db: Any,
) -> None:
    partnership = PartnershipFactory(referrals_per_free_hire=1)
    for r in make_referrals(partnership, 10):
        referral_qualify(referral=r)
    assert balances(partnership)["free_hires"] == 10
    start = timezone.localdate()
    placements = Placement.objects.bulk_create(
        [
            Placement(
                agency=partnership.agency,
                hiring_company=partnership.company,
                annual_salary_jpy=5_000_000,
                fee_rate="35.00",
                fee_jpy=0,
                start_date=start,
                guarantee_ends_on=start + dt.timedelta(days=180),
                free_hire=True,
            )
            for _ in range(100)
        ]
    )

    observed: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        from credits.models import LedgerAccount

        try:
            _connect()
            while not stop.is_set():
                observed.append(
                    LedgerAccount.objects.unscoped()
                    .get(partnership=partnership, name="free_hires")
                    .balance
                )
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results = _threaded(50, placements, lambda p: free_hire_redeem(placement=p))
    finally:
        stop.set()
        watcher.join()
    succeeded = [r for r in results if isinstance(r, LedgerTransaction)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    assert len(succeeded) == 10
    assert len(refused) == 90
    assert all(e.field == "free_hire" for e in refused)
    assert balances(partnership)["free_hires"] == 0
    assert observed
    assert min(observed) >= 0
    assert_balances_match_entries(partnership)


def test_qualifications_racing_redemptions_never_deadlock_or_overdraw(
    transactional_db: Any,
) -> None:
    partnership = PartnershipFactory()
    referrals = make_referrals(partnership, 150)
    start = timezone.localdate()
    placements = Placement.objects.bulk_create(
        [
            Placement(
                agency=partnership.agency,
                hiring_company=partnership.company,
                annual_salary_jpy=5_000_000,
                fee_rate="35.00",
                fee_jpy=0,
                start_date=start,
                guarantee_ends_on=start + dt.timedelta(days=180),
                free_hire=True,
            )
            for _ in range(20)
        ]
    )
    work: list[Any] = [*referrals, *placements]
    random.Random(11).shuffle(work)

    def apply(item: Any) -> Any:
        if isinstance(item, Placement):
            return free_hire_redeem(placement=item)
        return referral_qualify(referral=item)

    results = _threaded(20, work, apply)
    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, ApplicationError)
    ]
    assert unexpected == []
    redeemed = sum(1 for r in results if isinstance(r, LedgerTransaction))
    b = balances(partnership)
    assert b["points"] == 0
    assert b["free_hires"] == 15 - redeemed
    assert b["free_hires"] >= 0
    assert_balances_match_entries(partnership)
