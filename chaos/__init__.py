"""The fault run (`make chaos`): the real app on real Redis and PostgreSQL, a Twilio-faithful fake, a few hundred
signed calls and SMS, worker kills, a Redis restart, provider 429/5xx bursts, replayed and forged webhooks; then
one table counted from the database and the fake Twilio side. Everything runs on 127.0.0.1 and is cleaned up.
"""
