"""The candidate's pages: landing /r/<token>/, thank-you, email verification and the magic-link
page. Thin: reads through selectors, writes through services.

The landing GET is the hot path: a cached link look-up, one Redis write for the click, a render.
No database write and no task enqueue happen on it (unless Redis is down: then the click row is
written directly so it is not lost).
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.defaultfilters import linebreaks_filter
from django.template.loader import render_to_string
from django.utils import translation
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods

from careerrelay.core import csrf
from careerrelay.core.audit import ip_hash
from careerrelay.core.errors import ApplicationError
from careerrelay.core.ratelimit import (  # client_ip is proxy-aware (X-Forwarded-For)
    FLOOD_WINDOW_SECONDS,
    client_ip,
    counts_floods_itself,
    flood_allow,
    flood_counter,
    ratelimited_response,
)
from referrals import clicks, pii, selectors, services
from referrals.consent import consent_texts
from referrals.forms import RegistrationForm, landing_form_context
from referrals.selectors import LandingLink

CLICK_COOKIE_AGE = 30 * 24 * 3600


def _rate_limited(request: HttpRequest) -> bool:
    """Per-IP registration attempts per window (Django cache; fails open if it is down)."""
    limit, window = getattr(settings, "REFERRAL_REGISTER_RATE", (10, 600))
    key = f"cr:rl:register:{ip_hash(client_ip(request))[:32]}"
    try:
        if cache.add(key, 1, window):
            return False
        return cache.incr(key) > limit
    except (redis.RedisError, ValueError):
        return False


def _context(
    link: LandingLink,
    *,
    form: RegistrationForm | None = None,
    with_form: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    consents = consent_texts(
        company_name=link.company_name,
        agency_name=link.agency_name,
        agency_license_number=link.agency_license_number,
    )
    context = {
        "link": link,
        "consents": consents,
        "privacy_version": settings.PRIVACY_POLICY_VERSION,
        **extra,
    }
    if form is not None or with_form:
        context.update(landing_form_context(form, consents))
    return context


def _gone(request: HttpRequest, link: LandingLink) -> HttpResponse:
    return render(request, "referrals/gone.html", _context(link), status=410)


def _closed(request: HttpRequest, link: LandingLink, reason: str, status: int) -> HttpResponse:
    return render(
        request,
        "referrals/closed.html",
        _context(link, reason=services.closed_reason_message(reason)),
        status=status,
    )


# The landing page is the same for every visitor of every link in one language except for the
# link's own fields and the CSRF token, so it is rendered once per (language, logo?, message?)
# as a skeleton with placeholders and filled in per request: template rendering was most of the
# page's CPU, and a mail-out spreads views over thousands of links (bench/NOTES.md). The
# placeholders are plain ASCII words, unchanged by HTML escaping and by the translations'
# %-formatting; each is replaced by its field escaped as the template would have escaped it.
_SKELETON_MARK = "crskel7q"
_SKELETON_FIELDS = {
    "token": "token",
    "company_name": "company",
    "company_logo_url": "logo",
    "agency_name": "agency",
    "agency_license_number": "license",
}
_SKELETON_RE = re.compile(rf"(<p>{_SKELETON_MARK}message</p>|{_SKELETON_MARK}[a-z]+)")
# (language, has logo, has message) -> the page split at its placeholders: literal text at even
# positions, placeholders at odd ones.
_skeletons: dict[tuple[str, bool, bool], list[str]] = {}


def _skeleton(request: HttpRequest, link: LandingLink) -> list[str]:
    language = translation.get_language() or ""
    key = (language, bool(link.company_logo_url), bool(link.company_message))
    parts = _skeletons.get(key)
    if parts is None:
        placeholders = {
            field: f"{_SKELETON_MARK}{word}" for field, word in _SKELETON_FIELDS.items()
        }
        if not link.company_logo_url:
            placeholders["company_logo_url"] = ""
        placeholders["company_message"] = f"{_SKELETON_MARK}message" if link.company_message else ""
        context = _context(dataclasses.replace(link, **placeholders), with_form=True)
        context["csrf_token"] = f"{_SKELETON_MARK}csrf"
        context["next_path"] = f"/r/{_SKELETON_MARK}token/"
        html = render_to_string("referrals/landing.html", context, request=request)
        parts = _skeletons[key] = _SKELETON_RE.split(html)
    return parts


@functools.lru_cache(maxsize=1024)
def _message_html(message: str) -> str:
    """A company's landing message as the template shows it (escaped, paragraphs, <br>)."""
    return str(linebreaks_filter(message, autoescape=True))


def _landing_html(request: HttpRequest, link: LandingLink) -> str:
    values = {
        f"{_SKELETON_MARK}{word}": html.escape(getattr(link, field))
        for field, word in _SKELETON_FIELDS.items()
    }
    values[f"{_SKELETON_MARK}csrf"] = csrf.get_token(request)
    if link.company_message:
        values[f"<p>{_SKELETON_MARK}message</p>"] = _message_html(link.company_message)
    parts = _skeleton(request, link)
    out = parts[:]
    for i in range(1, len(parts), 2):
        out[i] = values[parts[i]]
    return "".join(out)


def _unavailable(request: HttpRequest, link: LandingLink | None, *, page: bool) -> HttpResponse:
    """Unknown token: 404; deactivated or expired: 410; registrations closed: why (409 to a
    registration)."""
    if link is None:
        raise Http404
    if link.is_gone:
        return _gone(request, link)
    return _closed(request, link, link.closed_reason, 200 if page else 409)


@counts_floods_itself
# Every answer about a link is checked again before the browser shows it again: a link's state
# changes (HR reactivates it, a licence is renewed), and Chromium kept a 410 without an explicit
# lifetime for good, so a reactivated link stayed "gone" (found on a fresh clone of the demo).
@cache_control(private=True, no_cache=True)
@require_http_methods(["GET", "HEAD", "POST"])
def landing(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":  # registrations have their own per-address limit
        link = selectors.landing_link(token)
        if link is None or not link.is_open:
            return _unavailable(request, link, page=False)
        return _register(request, link)
    view = clicks.PageView(
        event=clicks.new_event(
            method=request.method or "GET",
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            ip=client_ip(request),
        ),
        write_sync=services.click_write_sync,
        flood=flood_counter(request),
        flood_allow=lambda: flood_allow(request),
    )
    link, captured = selectors.landing_visit(token, view)
    if link is None or captured is None:  # unknown, gone or closed: no click recorded
        if not flood_allow(request):
            return ratelimited_response(request, retry_after=FLOOD_WINDOW_SECONDS)
        return _unavailable(request, link, page=True)
    if captured.how == clicks.FLOODED:
        return ratelimited_response(request, retry_after=FLOOD_WINDOW_SECONDS)
    response = HttpResponse(_landing_html(request, link))
    response.set_cookie(
        clicks.COOKIE_NAME,
        view.event.uid,
        max_age=CLICK_COOKIE_AGE,
        path="/r/",
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


def _register(request: HttpRequest, link: LandingLink) -> HttpResponse:
    if _rate_limited(request):
        form = RegistrationForm(request.POST)
        return render(
            request,
            "referrals/landing.html",
            _context(link, form=form, rate_limited=True),
            status=429,
        )
    form = RegistrationForm(request.POST)
    if form.is_bot():
        # Honeypot filled: look like success to the bot, write nothing.
        return HttpResponseRedirect(f"/r/{link.token}/thanks/")
    if form.is_valid():
        data = form.cleaned_data
        try:
            registration = services.candidate_register(
                link_id=link.id,
                name=data["name"],
                email=data["email"],
                phone=data["phone"],
                desired_role=data["desired_role"],
                prefecture=data["prefecture"],
                consent_privacy=data["consent_privacy"],
                consent_third_party=data["consent_third_party"],
                ip=client_ip(request),
                click_uid=request.COOKIES.get(clicks.COOKIE_NAME),
                language=translation.get_language() or "ja",
            )
        except ApplicationError as exc:
            selectors.landing_link_forget(link.token)
            if exc.status_code == 410:
                return _gone(request, link)
            if exc.status_code == 404:
                raise Http404 from exc
            if exc.status_code == 409:
                return render(
                    request,
                    "referrals/closed.html",
                    _context(link, reason=exc.message),
                    status=409,
                )
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return HttpResponseRedirect(f"/r/{link.token}/thanks/?k={registration.magic_token}")
    return render(request, "referrals/landing.html", _context(link, form=form), status=400)


@require_http_methods(["GET", "HEAD"])
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    link = selectors.landing_link(token)
    if link is None:
        raise Http404
    magic = request.GET.get("k", "")
    if (
        magic
        and services.read_signed(magic, salt=services.MAGIC_SALT, max_age=services.MAGIC_MAX_AGE)
        is None
    ):
        magic = ""
    return render(request, "referrals/thanks.html", _context(link, magic=magic))


@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest, signed: str) -> HttpResponse:
    """GET shows a confirm button (mail scanners open links; only a person's POST verifies)."""
    candidate_id = services.read_signed(
        signed, salt=services.VERIFY_SALT, max_age=services.VERIFY_MAX_AGE
    )
    candidate = selectors.candidate_for_magic(candidate_id=candidate_id) if candidate_id else None
    if candidate is None or candidate.erased_at is not None:
        return render(request, "referrals/verify.html", {"invalid": True}, status=400)
    verified = candidate.email_verified_at is not None
    if request.method == "POST" and not verified:
        candidate = services.candidate_verify(candidate_id=candidate.pk)
        verified = candidate is not None
    return render(
        request,
        "referrals/verify.html",
        {
            "verified": verified,
            "agency": candidate.agency if candidate else None,
            "magic": services.magic_token(candidate=candidate) if candidate else "",
        },
    )


STATUS_FOR_CANDIDATE = {
    "new": "received",
    "held": "received",
    "qualified": "accepted",
    "disqualified": "closed",
    "duplicate": "registered_before",
    "withdrawn": "withdrawn",
}


@require_http_methods(["GET", "HEAD", "POST"])
def me(request: HttpRequest, signed: str) -> HttpResponse:
    """The candidate's own page: status, who holds the data, withdraw consent, erase data."""
    candidate_id = services.read_signed(
        signed, salt=services.MAGIC_SALT, max_age=services.MAGIC_MAX_AGE
    )
    candidate = selectors.candidate_for_magic(candidate_id=candidate_id) if candidate_id else None
    if candidate is None:
        return render(request, "referrals/me.html", {"invalid": True}, status=404)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "withdraw" and candidate.erased_at is None:
            services.candidate_withdraw(candidate=candidate)
        elif action == "erase" and candidate.erased_at is None:
            if request.POST.get("confirm") == "1":
                services.candidate_erase(candidate=candidate)
            else:
                error = "confirm"
        if not error:
            return HttpResponseRedirect(request.path)
    referrals = list(selectors.candidate_referrals(candidate=candidate))
    rows = [
        {
            "company": r.company.name,
            "agency": r.agency.name,
            "license": r.agency.license_number,
            "contact": r.agency.contact_email,
            "created_at": r.created_at,
            "state": STATUS_FOR_CANDIDATE.get(r.status, "received"),
        }
        for r in referrals
    ]
    return render(
        request,
        "referrals/me.html",
        {
            "candidate": candidate,
            "agency": candidate.agency,
            "name": pii.decrypt(candidate.name_enc),
            "email": pii.decrypt(candidate.email_enc),
            "rows": rows,
            "error": error,
            "retain_years": settings.CONSENT_RETENTION_YEARS,
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "HEAD"])
def privacy(request: HttpRequest) -> HttpResponse:
    """The candidates' privacy notice, the text the landing page's consent checkbox refers to
    (its version is the one recorded in every consent receipt)."""
    return render(
        request,
        "referrals/privacy.html",
        {
            "privacy_version": settings.PRIVACY_POLICY_VERSION,
            "operator": settings.PLATFORM_INVOICE_NAME,
            "contact_email": settings.PRIVACY_CONTACT_EMAIL,
            "retention_years": settings.CONSENT_RETENTION_YEARS,
        },
    )
