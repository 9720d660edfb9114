"""Telling the payer: the Mã xác nhận and the payment facts by SMS and email (issue 14).

Pure core, no Qt, no network library, no printing: addresses (`address`), the SMS text
(`sms_text`), the email text (`email_text`), settings and the SMS gateway profile (`settings`),
the notification outbox queued in the payment's own transaction (`outbox`) and the delivery loop
(`delivery`). The senders that talk to an SMS gateway over HTTP and to an SMTP server live in
`sync/notify_sms.py` and `sync/notify_email.py`; docs/NOTIFY.md describes the whole.
"""
