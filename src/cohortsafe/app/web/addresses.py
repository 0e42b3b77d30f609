"""The visitor's network address, for rate limits and sign-in throttling only.

Behind the TLS proxy that ``COHORTSAFE_HTTPS=1`` expects, every request comes from the
proxy: the visitor's address is the last one the proxy added to ``X-Forwarded-For``
(earlier entries are whatever the visitor sent, and are not trusted). One IPv6 home
connection holds a whole /64, so a limit counts that network, not one address in it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

__all__ = ["client_address", "limit_key"]


def client_address(request: HttpRequest) -> str:
    """The address the request came from, as the proxy (if any) saw it."""
    if getattr(settings, "COHORTSAFE_BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return str(request.META.get("REMOTE_ADDR", ""))


def limit_key(request: HttpRequest) -> str:
    """What a per-sender limit counts: the IPv4 address, or the IPv6 /64 network."""
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)
