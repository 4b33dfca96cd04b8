"""Web security: the security headers of every response, and who a client is behind proxies.

- ``monitor.security.policy``: the Content-Security-Policy and the other headers, per kind of
  response (the public page's snapshot bakes them in at publish time).
- ``monitor.security.middleware``: adds them to every response the app renders per request.
- ``monitor.security.client_address``: the address the per-client limits count, believing
  ``X-Forwarded-For`` only from ``server.trusted_proxies``.
"""
