"""The machinery every provider's API client shares.

`transport` (one request function: the token, deadlines, retries, failover,
errcode mapping through the provider's table, redaction), `tokens`, `wire`
(checked reading of wire JSON, the multipart media part), `config` (the
KFSYNC_* settings) and `base` (a client's lifecycle around its transport).
Each provider's client (e.g. `kfsync.providers.wechat_mp.client.KfClient`)
is built on them; nothing here
imports a provider.
"""
