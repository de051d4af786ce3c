"""The client's address, for rate limits and the audit log: the peer, unless the peer is a configured
trusted proxy, in which case the nearest address that proxy chain did not add itself.

``X-Forwarded-For`` is written by whoever sends the request; honouring it from anyone would let
a client pick the address its limits are counted on (issue 13.4). Only the entries appended by
our own proxies (``security.trusted_proxies``) are believed: walking the header from the right,
the first address that is not a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    """Parse the configured proxies (addresses or CIDR ranges); a typo is a startup error, not a bypass."""
    return tuple(ipaddress.ip_network(proxy.strip(), strict=False) for proxy in proxies if proxy.strip())


def _is_trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: str | None, proxies: Iterable[str]) -> str:
    """The address a request is counted on (see the module docstring)."""
    networks = trusted_networks(tuple(proxies))
    if not forwarded_for or not networks or not _is_trusted(peer, networks):
        return peer
    for entry in reversed([part.strip() for part in forwarded_for.split(",")]):
        if _is_trusted(entry, networks):
            continue
        try:
            return str(ipaddress.ip_address(entry))
        except ValueError:
            return peer  # our proxy wrote something that is not an address: count the proxy, never a choice
    return peer
