"""An SII session as cookies a later client can carry on: exported after a login, imported by the
next sync of the same company (the SII's cookies are set on .sii.cl and read by every surface)."""

import httpx

# (name, value, domain, path) of each cookie the SII set.
SessionCookies = list[tuple[str, str, str, str]]


def cookies_export(cookies: httpx.Cookies) -> SessionCookies:
    return [(cookie.name, cookie.value or "", cookie.domain, cookie.path) for cookie in cookies.jar]


def cookies_import(cookies: httpx.Cookies, session: SessionCookies) -> None:
    for name, value, domain, path in session:
        cookies.set(name, value, domain=domain, path=path)
