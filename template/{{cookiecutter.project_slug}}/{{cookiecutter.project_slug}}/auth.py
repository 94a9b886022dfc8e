"""Who is signed in: a stand-in for your own users, to replace.

stripekit needs one thing of your users: a stable reference (the ``Buyer``'s
``reference``), which checkout sends to Stripe and the billing state files
subscriptions, purchases and credits under. Here anyone signs in with an email
address and no password, kept in a session cookie signed with SESSION_SECRET:
enough to try the shop, not to run one. Swap ``current_buyer`` for your own
sign-in (a user id from your session or token) and keep the rest.
"""

from __future__ import annotations

import logging
import os
import re
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stripekit import Buyer

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,}")

router = APIRouter(include_in_schema=False)


def session_secret() -> str:
    """The key the session cookie is signed with: SESSION_SECRET from .env, else a random
    one for this process (sessions then end when it restarts)."""
    secret = os.environ.get("SESSION_SECRET", "")
    if not secret:
        logging.getLogger(__name__).warning(
            "SESSION_SECRET is not set: sign-ins last until the shop restarts"
        )
        return secrets.token_urlsafe(32)
    if len(secret) < 32:
        raise RuntimeError(
            "SESSION_SECRET must be a long random value (32+ characters): "
            'python -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    return secret


def signed_in(request: Request) -> str | None:
    """The signed-in user's email, if any."""
    email = request.session.get("email")
    return email if isinstance(email, str) and _EMAIL.fullmatch(email) else None


def current_buyer(request: Request) -> Buyer | None:
    """The signed-in user as checkout and the account page see them."""
    email = signed_in(request)
    return Buyer(email=email, reference=email) if email else None


def install(app, pages, urls) -> None:  # noqa: ANN001
    """The sign-in page and its two POSTs on ``app``."""

    @router.get("/signin", response_class=HTMLResponse)
    async def sign_in_page(request: Request) -> HTMLResponse:
        html = pages.render_template("signin.html", urls=urls, user=signed_in(request))
        return HTMLResponse(html)

    @router.post("/signin")
    async def sign_in(request: Request) -> Response:
        form = await request.form()
        email = str(form.get("email") or "").strip().lower()
        if not _EMAIL.fullmatch(email):
            html = pages.render_template(
                "signin.html", urls=urls, user=None, error="That is not an email address."
            )
            return HTMLResponse(html, status_code=400)
        request.session["email"] = email
        return RedirectResponse("/stripe/pricing", status_code=303)

    @router.post("/signout")
    async def sign_out(request: Request) -> Response:
        request.session.clear()
        return RedirectResponse("/", status_code=303)

    app.include_router(router)
