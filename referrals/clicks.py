"""Click capture off the request path.

A landing page view costs one Redis write: an RPUSH of a compact JSON event onto a pending list.
`click_drain` (Celery beat, every few seconds) moves events in batches to a processing list with
LMOVE, bulk-inserts them (the click uid is unique, conflicts are ignored), and only then removes
them. A drain that dies mid-batch leaves its batch in the processing list; the next drain
re-processes it first, so nothing is lost and nothing is counted twice. One drain runs at a time
(a Redis lock with a short TTL, refreshed per batch).

If Redis is unreachable the view writes the Click row itself: the page still renders and the click
is kept.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import redis
from django.conf import settings

from referrals.models import ClickClass

logger = logging.getLogger(__name__)

PENDING_KEY = "cr:clicks:pending"
PROCESSING_KEY = "cr:clicks:processing"
LOCK_KEY = "cr:clicks:drain-lock"
LOCK_SECONDS = 10
BATCH_SIZE = 1000
# A single drain run stops after this long; the next beat continues (bounded, lock-safe work).
RUN_SECONDS = 4.0
# While views keep arriving (the pending list grows by at least YIELD_ARRIVALS a second), the drain
# gives way to the landing pages it shares the machine with: it takes slices of YIELD_SLICE events
# and rests YIELD_REST times each slice's working time before the next. A drain working flat out
# in batches of 1,000 took ~0.7 of a core (itself and PostgreSQL) for ~70 ms per batch, and the
# landing pages answered in that time took twice as long (bench/NOTES.md); in slices shorter than
# one page's answer, with rests, the pages see a steady ~quarter of that instead. Behind by more
# than YIELD_MAX_LAG seconds (a burst beyond the rested pace), it works flat out again.
YIELD_SLICE = 200
YIELD_REST = 3.0
YIELD_ARRIVALS = 50.0
YIELD_HOLD = 1.0
YIELD_MAX_LAG = 30.0
COOKIE_NAME = "cr_click"

# Mail-security products open every link of an incoming email before the recipient does.
SCANNER_PATTERNS = re.compile(
    r"safelinks|bingpreview|microsoft office existence|ms-office|microsoft defender|"
    r"proofpoint|urldefense|mimecast|barracuda|googleimageproxy|ggpht\.com|google-safety|"
    r"symantec|messagelabs|trend ?micro|fireeye|trellix|forcepoint|sophos|avanan|"
    r"checkpoint|cisco|ironport|zscaler|cloudmark|fortinet|fortiguard|hornetsecurity|"
    r"libraesva|vade ?secure|spamtitan",
    re.IGNORECASE,
)
BOT_PATTERNS = re.compile(
    r"bot\b|bot/|crawler|spider|slurp|crawl|curl/|wget/|python-requests|python-urllib|"
    r"aiohttp|httpx|go-http-client|java/|okhttp|libwww|scrapy|headlesschrome|phantomjs|"
    r"facebookexternalhit|embedly|preview|monitor|uptime|pingdom|feedfetcher|"
    r"httpclient|node-fetch|axios/",
    re.IGNORECASE,
)


def classify(*, method: str, user_agent: str) -> str:
    """HEAD requests, empty user agents, bots and mail-security scanners are classified (stored
    but never unique); everything else is a human view."""
    if method.upper() == "HEAD":
        return ClickClass.HEAD
    return _classify_agent((user_agent or "").strip())


@functools.lru_cache(maxsize=4096)
def _classify_agent(ua: str) -> str:
    # Cached: a mail-out's views come from a few hundred distinct browsers and scanners, and the
    # two case-insensitive alternations cost ~0.1 ms per look-up (bench/NOTES.md).
    if not ua:
        return ClickClass.BOT
    if SCANNER_PATTERNS.search(ua):
        return ClickClass.SCANNER
    if BOT_PATTERNS.search(ua):
        return ClickClass.BOT
    return ClickClass.HUMAN


def visitor_hash(*, ip: str, user_agent: str) -> str:
    """A keyed, truncated hash of IP + user agent: tells repeat views apart, identifies nobody."""
    key = settings.PII_HMAC_KEY.encode()
    return hmac.new(key, f"visitor:{ip}|{user_agent}".encode(), hashlib.sha256).hexdigest()[:32]


def ids_json(link_id: int, company_id: int, agency_id: int) -> str:
    """A link's part of a click event's JSON object, without braces."""
    return f'"l":{int(link_id)},"c":{int(company_id)},"a":{int(agency_id)}'


# A uid exactly as str(uuid.UUID) writes it: checked ~5x faster than parsing it again.
_CANONICAL_UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
).fullmatch


@dataclass(frozen=True)
class ClickEvent:
    uid: str
    link_id: int
    company_id: int
    agency_id: int
    ts: float
    classification: str
    visitor_hash: str

    def to_json(self) -> str:
        return f"{{{ids_json(self.link_id, self.company_id, self.agency_id)},{self.tail_json()}}}"

    def tail_json(self) -> str:
        """The view's part of the event's JSON object, without braces: the capture script
        splices the link's ids (ids_json, kept with the shared link copy) in front of it. Every
        value is JSON as written: a canonical uuid, a float, a ClickClass value, a hex digest."""
        return (
            f'"u":"{self.uid}","t":{round(self.ts, 3)!r},'
            f'"k":{json.dumps(str(self.classification))},"v":{json.dumps(str(self.visitor_hash))}'
        )

    def for_link(self, link: Any) -> ClickEvent:
        ids = {"link_id": link.id, "company_id": link.company_id, "agency_id": link.agency_id}
        return dataclasses.replace(self, **{name: int(value) for name, value in ids.items()})

    @classmethod
    def from_json(cls, raw: str | bytes) -> ClickEvent | None:
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        return cls.from_data(data, raw)

    @classmethod
    def from_data(cls, data: Any, raw: Any = None) -> ClickEvent | None:
        """The event of one parsed JSON value, or None (logged) when it is not a valid event."""
        try:
            uid = data["u"]
            if not (isinstance(uid, str) and _CANONICAL_UUID(uid)):
                # Not as `to_json` writes it: normalised, or refused when it is no UUID at all.
                uid = str(uuid.UUID(str(uid)))
            return cls(
                uid=uid,
                link_id=int(data["l"]),
                company_id=int(data["c"]),
                agency_id=int(data["a"]),
                ts=float(data["t"]),
                classification=str(data["k"]),
                visitor_hash=str(data["v"])[:32],
            )
        except (ValueError, KeyError, TypeError):
            logger.warning("dropping a malformed click event: %.200r", data if raw is None else raw)
            return None


_RAND_B = (1 << 62) - 1


def new_uid(now: float | None = None) -> str:
    """A click uid: a UUID of version 7 (RFC 9562), 48 bits of Unix time in milliseconds, then
    74 random bits. Random (version 4) uids put every drained click on its own random page of
    the unique index, and each first write of a page after a checkpoint logs the whole page:
    a burst's drain wrote mostly full-page images (bench/NOTES.md). Time-ordered uids fill a few
    neighbouring pages instead. The 74 random bits keep the cookie's value unguessable."""
    ms = int((time.time() if now is None else now) * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits: 12 for rand_a, 62 for rand_b
    value = ms << 80 | 0x7 << 76 | (rand >> 68) << 64 | 0b10 << 62 | (rand & _RAND_B)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_event(
    *, link: Any = None, method: str, user_agent: str, ip: str, now: float | None = None
) -> ClickEvent:
    """The event of one view; without `link` its ids are 0 until `for_link` (or the capture
    script, from the shared link copy) fills them in."""
    if now is None:
        now = time.time()
    return ClickEvent(
        uid=new_uid(now),
        link_id=int(link.id) if link is not None else 0,
        company_id=int(link.company_id) if link is not None else 0,
        agency_id=int(link.agency_id) if link is not None else 0,
        ts=now,
        classification=classify(method=method, user_agent=user_agent),
        visitor_hash=visitor_hash(ip=ip, user_agent=user_agent),
    )


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def client() -> redis.Redis | None:
    """A Redis client for settings.REDIS_URL with short timeouts, or None without Redis.
    Raises redis.RedisError when Redis is unreachable (the client connects when made)."""
    url = settings.REDIS_URL
    if not url:
        return None
    with _clients_lock:
        conn = _clients.get(url)
        if conn is None:
            # One connection per process (with redis-py's lock for threads) rather than a pool:
            # taking and returning a pooled connection cost as much client CPU as the command
            # itself on the landing page (bench/NOTES.md).
            conn = redis.Redis.from_url(
                url,
                socket_connect_timeout=0.25,
                socket_timeout=0.25,
                retry_on_timeout=False,
                health_check_interval=30,
                single_connection_client=True,
            )
            _clients[url] = conn
        return conn


# The landing cache's version (referrals/selectors.py): checked in the capture's round trip, so
# every recorded view checks the page's cached copy for free.
LANDING_VERSION_KEY = "cr:landing:version"
# A link's shared copy, one hash per token: v the landing version it was read under, o until when
# (epoch seconds) its page takes registrations (0: closed, gone or unknown), i the link's ids as
# ids_json writes them, d the copy (selectors.LandingLink as JSON; '' for an unknown token).
COPY_KEY_PREFIX = "cr:landing:link:"

# Both capture scripts count the visitor's address in its flood window (the last key, when given;
# ARGV[3] the limit, ARGV[4] the window's seconds) and, above the limit, record nothing.
_FLOOD = """
if #KEYS == {key} then
  local seen = redis.call('incr', KEYS[{key}])
  if seen == 1 then redis.call('expire', KEYS[{key}], ARGV[4]) end
  if seen > tonumber(ARGV[3]) then return {{0, version, data}} end
end
"""
# One round trip for the landing page's only write, when the process has the link's copy. Unless
# the copy was read under another landing version (then nothing is counted or appended: the view
# reads the link again first), count the flood window and, within the limit, append the click.
# KEYS: pending list, landing version, flood counter (or none). ARGV: event, the copy's version
# (or '*': any), limit, window seconds. Returns {1 appended, 0 flooded or 2 stale, the landing
# version or '', ''}.
_CAPTURE = (
    """
local version = redis.call('get', KEYS[2]) or ''
local data = ''
if ARGV[2] ~= '*' and ARGV[2] ~= version then return {2, version, data} end
"""
    + _FLOOD.format(key=3)
    + """
redis.call('rpush', KEYS[1], ARGV[1])
return {1, version, data}
"""
)
# The same round trip when the process has no copy (or an out-of-date one): read the shared copy
# and, when it is of the current version and open at the view's time, count the flood window and
# append the click as _CAPTURE does, its ids spliced in from the copy. KEYS: pending list,
# landing version, the copy, flood counter (or none). ARGV: the event's tail (ClickEvent.tail_json;
# '' records nothing), now, limit, window seconds. Returns {outcome, the landing version, the
# copy's d}: 1 appended, 0 flooded, 4 no click (closed, gone or unknown, or no event), 3 no
# current copy.
_READ_CAPTURE = (
    """
local version = redis.call('get', KEYS[2]) or ''
local copy = redis.call('hmget', KEYS[3], 'v', 'o', 'i', 'd')
if copy[1] ~= version then return {3, version, ''} end
local data = copy[4]
if ARGV[1] == '' or tonumber(copy[2]) <= tonumber(ARGV[2]) then return {4, version, data} end
"""
    + _FLOOD.format(key=4)
    + """
redis.call('rpush', KEYS[1], '{' .. copy[3] .. ',' .. ARGV[1] .. '}')
return {1, version, data}
"""
)
_scripts: dict[tuple[int, str], Any] = {}


def _script(conn: redis.Redis, source: str) -> Any:
    script = _scripts.get((id(conn), source))
    if script is None:
        script = _scripts[(id(conn), source)] = conn.register_script(source)
    return script


def _evalsha(conn: redis.Redis, source: str, keys: list[str], args: list[Any]) -> Any:
    """A landing script on the client's one connection, straight through the connection's send
    and read: redis-py's per-command layers (retry policy, observability hooks, response
    callbacks) cost ~30 µs of the landing page's CPU (bench/NOTES.md). A dropped or timed-out
    connection is closed and the error raised as before (the next call reconnects); a Redis that
    lost its scripts gets the script through redis-py's Script, which loads it."""
    script = _script(conn, source)
    with conn.single_connection_lock:  # the lock redis-py's own commands on this client take
        connection = conn.connection
        try:
            connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
            return connection.read_response()
        except redis.exceptions.NoScriptError:
            return script(keys=keys, args=args, client=conn)
        except (redis.ConnectionError, redis.TimeoutError):
            connection.disconnect()
            raise


def _run_capture(
    conn: redis.Redis,
    source: str,
    keys: list[str],
    args: list[Any],
    flood: tuple[str, int, int] | None,
) -> tuple[str, str, str]:
    """A capture script with the flood window's key and arguments added when given: (outcome,
    landing version, the copy's data)."""
    if flood is not None:
        keys = [*keys, flood[0]]
        args = [*args, flood[1], flood[2]]
    outcome, version, data = _evalsha(conn, source, keys, args)
    return _OUTCOMES[outcome], as_text(version), as_text(data)


def as_text(value: Any) -> str:
    """A Redis reply as text ('' for none): the click client returns bytes."""
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


FLOODED = "flooded"
STALE = "stale"
NO_CLICK = "no click"
NO_COPY = "no copy"
_OUTCOMES = {0: FLOODED, 1: "redis", 2: STALE, 3: NO_COPY, 4: NO_CLICK}


class Captured(NamedTuple):
    how: str  # "redis", "db", FLOODED or STALE
    version: str | None  # the landing version at capture time; None when Redis was not reached


class SharedCopy(NamedTuple):
    how: str  # "redis" (click appended), FLOODED, NO_CLICK or NO_COPY
    version: str  # the landing version
    data: str  # the copy (selectors.LandingLink as JSON, '' for an unknown token); '' for NO_COPY


@dataclass(frozen=True)
class PageView:
    """One view of a landing page to record: its event (the link's ids filled in once the link
    is known) and the capture's flood window and fallbacks (see `capture`)."""

    event: ClickEvent
    write_sync: Callable[[ClickEvent], Any]
    flood: tuple[str, int, int] | None = None
    flood_allow: Callable[[], bool] | None = None

    def capture(self, link: Any, *, version: str | None = None) -> Captured:
        return capture(
            self.event.for_link(link),
            write_sync=self.write_sync,
            version=version,
            flood=self.flood,
            flood_allow=self.flood_allow,
        )


def capture(
    event: ClickEvent,
    *,
    write_sync: Callable[[ClickEvent], Any],
    version: str | None = None,
    flood: tuple[str, int, int] | None = None,
    flood_allow: Callable[[], bool] | None = None,
) -> Captured:
    """Record one click: append it to the Redis list, or `write_sync(event)` if Redis is
    unreachable. With `version` (the landing version of the link copy the page is built from),
    a copy that is out of date records nothing and answers STALE with the current version. With
    `flood=(counter key, limit, expiry seconds)` the visitor's address is counted in the same
    round trip and a click above the limit is not recorded; without Redis, `flood_allow()`
    decides instead."""
    try:
        conn = client()
    except redis.RedisError as exc:
        conn = None
        logger.warning("Redis unreachable, writing the click synchronously: %s", exc)
    if conn is not None:
        try:
            how, current, _ = _run_capture(
                conn,
                _CAPTURE,
                [PENDING_KEY, LANDING_VERSION_KEY],
                [event.to_json(), "*" if version is None else version],
                flood,
            )
            return Captured(how, current)
        except redis.RedisError as exc:
            logger.warning("Redis unreachable, writing the click synchronously: %s", exc)
    if flood is not None and flood_allow is not None and not flood_allow():
        return Captured(FLOODED, None)
    write_sync(event)
    return Captured("db", None)


def read_copy(token: str, view: PageView | None = None) -> SharedCopy | None:
    """The link's shared copy and the landing version, in one round trip; with `view`, the
    view's click is recorded in it too when the copy is current and open (see _READ_CAPTURE).
    None without Redis; raises redis.RedisError when Redis is unreachable (nothing recorded)."""
    conn = client()
    if conn is None:
        return None
    keys = [PENDING_KEY, LANDING_VERSION_KEY, COPY_KEY_PREFIX + token]
    if view is None:
        return SharedCopy(*_run_capture(conn, _READ_CAPTURE, keys, ["", 0], None))
    args = [view.event.tail_json(), view.event.ts]
    return SharedCopy(*_run_capture(conn, _READ_CAPTURE, keys, args, view.flood))


def store_copy(
    token: str, *, version: str, open_until: float, ids: str, data: str, ttl: int
) -> None:
    """Share a link's copy with every process for `ttl` seconds (layout at COPY_KEY_PREFIX).
    Raises redis.RedisError when Redis is unreachable."""
    conn = client()
    if conn is None:
        return
    key = COPY_KEY_PREFIX + token
    with conn.pipeline() as pipe:
        pipe.delete(key)
        pipe.hset(key, mapping={"v": version, "o": repr(float(open_until)), "i": ids, "d": data})
        pipe.expire(key, ttl)
        pipe.execute()


def forget_copy(token: str) -> None:
    conn = client()
    if conn is not None:
        conn.delete(COPY_KEY_PREFIX + token)


def pending_count() -> int:
    conn = client()
    if conn is None:
        return 0
    return int(conn.llen(PENDING_KEY)) + int(conn.llen(PROCESSING_KEY))


# One round trip per batch. KEYS: pending list, processing list, lock. ARGV: the number of events
# at the head of the processing list that are committed (dropped first), the lock token, the
# lock's TTL in ms, the batch size (0: take nothing). Then, if the lock is still ours, refresh it
# and take the next batch: the leftovers of a drain that died mid-batch (the head of the
# processing list) first, else up to a batch moved atomically from pending to processing.
# Returns {-1, '', 0, 0} when the lock is no longer ours, else {the number of events taken, the
# events joined as one JSON array, how many of them came from the pending list, how many events
# are left there}: one reply to parse and one json.loads per batch instead of a thousand of each
# (bench/NOTES.md), and the pending list's length tells the drain whether views keep arriving.
_NEXT_BATCH = """
if tonumber(ARGV[1]) > 0 then redis.call('ltrim', KEYS[2], ARGV[1], -1) end
if redis.call('get', KEYS[3]) ~= ARGV[2] then return {-1, '', 0, 0} end
redis.call('pexpire', KEYS[3], ARGV[3])
local n = tonumber(ARGV[4])
if n < 1 then return {0, '', 0, redis.call('llen', KEYS[1])} end
local items = redis.call('lrange', KEYS[2], 0, n - 1)
local moved = 0
if #items == 0 then
  for i = 1, n do
    local item = redis.call('lmove', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
    if not item then break end
    items[i] = item
  end
  moved = #items
end
return {#items, '[' .. table.concat(items, ',') .. ']', moved, redis.call('llen', KEYS[1])}
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""


def _parse_batch(conn: redis.Redis, count: int, joined: bytes) -> list[ClickEvent]:
    """The valid events of a batch of `count` at the head of the processing list, `joined` as
    _NEXT_BATCH returns them. Every event `to_json` wrote is one JSON object, so the joined array
    has exactly `count` elements; when it does not parse so (a malformed event), the batch is read
    again event by event and the malformed ones are dropped (logged)."""
    try:
        values = json.loads(joined)
    except ValueError:
        values = None
    if isinstance(values, list) and len(values) == count:
        events = [ClickEvent.from_data(value) for value in values]
    else:
        raws = conn.lrange(PROCESSING_KEY, 0, count - 1)
        events = [ClickEvent.from_json(raw) for raw in raws]
    return [e for e in events if e is not None]


@dataclass
class _Pace:
    """How much the drain takes next and how long it rests first (see YIELD_SLICE)."""

    batch_size: int
    left: int | None = None  # events left in the pending list after the previous take
    at: float = 0.0  # when the previous take was answered (monotonic)
    arrived: float = float("-inf")  # when views were last seen arriving (monotonic)

    def first(self) -> int:
        # Whether views arrive is known from the second take on: start with a slice.
        return min(self.batch_size, YIELD_SLICE)

    def taken(self, *, moved: int, left: int) -> bool:
        """Note a take (`moved` events from the pending list, `left` still there); True while
        views arrived at YIELD_ARRIVALS a second or more between two takes within the last
        YIELD_HOLD seconds (one slice's window is short enough to see none by chance), and
        after the first take, before there is anything to compare with."""
        now = time.monotonic()
        first, previous, since = self.left is None, self.left, now - self.at
        self.left, self.at = left, now
        if first:
            return True
        if since > 0 and (left + moved - previous) / since >= YIELD_ARRIVALS:
            self.arrived = now
        return now - self.arrived < YIELD_HOLD

    def next(self, *, arriving: bool, worked: float, newest: float) -> tuple[int, float]:
        """The next take's size and the rest before it, after a batch that took `worked`
        seconds and whose newest event was captured at `newest` (epoch seconds)."""
        if arriving and time.time() - newest < YIELD_MAX_LAG:
            return min(self.batch_size, YIELD_SLICE), worked * YIELD_REST
        return self.batch_size, 0.0


def drain(
    ingest: Callable[[list[ClickEvent]], int],
    *,
    batch_size: int = BATCH_SIZE,
    run_seconds: float = RUN_SECONDS,
) -> int:
    """Move pending events into the database through `ingest` (which must be idempotent on the
    event uid), at a pace that gives way to arriving views (see YIELD_SLICE). Returns the number
    of events processed (including re-processed leftovers), or -1 when another drain holds the
    lock."""
    conn = client()
    if conn is None:
        return 0
    token = uuid.uuid4().hex
    if not conn.set(LOCK_KEY, token, nx=True, ex=LOCK_SECONDS):
        return -1
    processed = 0
    committed = 0  # events at the head of the processing list that are in the database
    pace = _Pace(batch_size)
    take = pace.first()
    rest = 0.0
    started = time.monotonic()
    try:
        while True:
            if rest:
                time.sleep(rest)
            # Committed: now (and only now) drop exactly that batch from the processing list;
            # then refresh the lock and take the next batch, in the same round trip.
            count, joined, moved, left = conn.eval(
                _NEXT_BATCH,
                3,
                PENDING_KEY,
                PROCESSING_KEY,
                LOCK_KEY,
                committed,
                token,
                LOCK_SECONDS * 1000,
                take,
            )
            if count < 0:
                # The lock lapsed during a slow batch and another drain may own the queue now:
                # stop here (duplicates are impossible by uid; stopping avoids racing it).
                logger.warning("click drain lost its lock after %s events; stopping", processed)
                break
            if not count:
                break
            arriving = pace.taken(moved=int(moved), left=int(left))
            working = time.monotonic()
            events = _parse_batch(conn, count, joined)
            if events:
                ingest(events)
            committed = count
            processed += count
            if time.monotonic() - started > run_seconds:
                take, rest = 0, 0.0  # the next round trip only drops this batch, refreshes the lock
            else:
                newest = max((e.ts for e in events), default=0.0)
                take, rest = pace.next(
                    arriving=arriving, worked=time.monotonic() - working, newest=newest
                )
    finally:
        try:
            conn.eval(_RELEASE, 1, LOCK_KEY, token)
        except redis.RedisError:
            logger.warning("could not release the click drain lock; it expires by itself")
    return processed
