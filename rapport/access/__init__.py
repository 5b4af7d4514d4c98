"""Who may do what: principals (server keys, staff, customer sessions), their permissions, passwords and links.

The one authorisation layer the API, the pages and the CLI share. It knows nothing of HTTP or SQL: the API
reads principals from requests (rapport.api.access), the store keeps accounts, tokens and sessions
(rapport.store.access).
"""
