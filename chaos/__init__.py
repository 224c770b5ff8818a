"""The fault run (`make chaos`): the real app on real Redis and PostgreSQL, a provider-faithful fake (Twilio's, or
with `--provider aliyun` Alibaba Cloud's SMS and its HTTP push), a few hundred signed calls and SMS, worker kills,
a Redis restart, provider faults, replayed and forged webhooks and pushes; then one table counted from the
database and the fakes' side. Everything runs on 127.0.0.1 and is cleaned up.
"""
