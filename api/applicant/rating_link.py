"""The rating at the window: the link to an ended application's rating in the applicant's app, and its QR
code (inline SVG, rendered here, no script) that the clerks' console shows for the applicant to scan.
The applicant rates on their own phone, signed in with the e-ID; a clerk never rates."""

from __future__ import annotations

from typing import Any

import segno
from markupsafe import Markup

from api.applicant.pages import PREFIX
from api.resources import Resources
from domain.statuses import TERMINAL


def rating_url(resources: Resources, base_url: str, application_id: str) -> str:
    """The application's rating in the app: under the public base URL, else the one the request came to."""
    base = resources.settings.public_base_url or base_url
    return f"{base.rstrip('/')}{PREFIX}/applications/{application_id}#rating"


def window_rating_link(resources: Resources, base_url: str, view: dict[str, Any]) -> dict[str, Any] | None:
    """The link and its QR code for an ended window application; None for others (an online case is
    rated in the app, where its applicant follows it)."""
    if view.get("channel") != "window" or view.get("status") not in TERMINAL:
        return None
    url = rating_url(resources, base_url, view["application_id"])
    svg = segno.make(url, error="m").svg_inline(scale=4, title="请办事人扫码评价", svgclass="rating-qr")
    return {"url": url, "qr_svg": Markup(svg)}  # segno's SVG of our own URL: no user markup in it
