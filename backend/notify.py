"""Email (SMTP) and SMS (a JSON webhook) senders behind one small interface.

Delivery runs on a small background pool after the request has decided its answer, so a slow
or failing channel never changes what the client sees (nor how long it waits, which would tell
apart known and unknown accounts). Failures are logged without the message body.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import threading
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage

from flask import Flask, current_app, g, has_request_context

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Channels:
    """The delivery settings of one app, copied out of its config for the background thread."""

    app_env: str
    mail_server: str | None
    mail_port: int
    mail_use_tls: bool
    mail_use_ssl: bool
    mail_username: str | None
    mail_password: str | None
    mail_sender: str
    sms_webhook_url: str | None

    @classmethod
    def from_app(cls) -> Channels:
        config = current_app.config
        return cls(
            app_env=config["APP_ENV"],
            mail_server=config["MAIL_SERVER"],
            mail_port=config["MAIL_PORT"],
            mail_use_tls=config["MAIL_USE_TLS"],
            mail_use_ssl=config["MAIL_USE_SSL"],
            mail_username=config["MAIL_USERNAME"],
            mail_password=config["MAIL_PASSWORD"],
            mail_sender=config["MAIL_DEFAULT_SENDER"],
            sms_webhook_url=config["SMS_WEBHOOK_URL"],
        )


_pool: ThreadPoolExecutor | None = None
_pool_pid: int | None = None
_pool_lock = threading.Lock()


def _submit(*job) -> None:
    """Queue `job` on this process's pool, made after gunicorn forks (a pool's threads do not
    survive a fork). Under the lock, so a submission lands in a pool before `drain` takes it."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="notify")
            _pool_pid = os.getpid()
        _pool.submit(*job)


def drain() -> None:
    """Wait for every queued delivery to finish (at worker exit, and between tests), including
    those that running jobs queue meanwhile: they go to a new pool, drained in turn."""
    global _pool
    while True:
        with _pool_lock:
            pool, _pool = _pool, None
        if pool is None or _pool_pid != os.getpid():
            return
        pool.shutdown(wait=True)


def send(*, email: str | None, phone: str | None, subject: str, text: str) -> None:
    """Queue `text` to the email address and/or phone number over every configured channel."""
    channels = Channels.from_app()
    if email:
        _submit(_guarded, _send_email, channels, email, subject, text)
    if phone and channels.sms_webhook_url:
        _submit(_guarded, _send_sms, channels, phone, text)


def init_app(app: Flask) -> None:
    """Start the jobs a request queued with `later` only once its answer is built."""
    app.teardown_request(_start_queued_jobs)


def later(job: Callable[..., None], *args) -> None:
    """Run `job(*args)` on the delivery pool in an app context of its own, after the request.

    Started at the request's teardown, so the job's work does not compete with building the
    answer (it would make known accounts slower to answer than unknown ones).
    """
    queued = (current_app._get_current_object(), job, args)
    if has_request_context():
        g.setdefault("queued_jobs", []).append(queued)
    else:
        _submit(_in_app, *queued)


def _start_queued_jobs(_error: BaseException | None) -> None:
    for queued in g.pop("queued_jobs", ()):
        _submit(_in_app, *queued)


def _in_app(app: Flask, job: Callable[..., None], args: tuple) -> None:
    with app.app_context():  # its own database session, removed when the job ends
        try:
            job(*args)
        except Exception as error:  # noqa: BLE001 - like a delivery: logged, never raised
            log.warning("background job %s failed: %s", job.__name__, type(error).__name__)


def _guarded(sender, channels: Channels, *args) -> None:
    try:
        sender(channels, *args)
    except Exception as error:  # noqa: BLE001 - any channel failure is logged, never raised
        log.warning("delivery by %s failed: %s", sender.__name__, type(error).__name__)


def _send_email(channels: Channels, to: str, subject: str, text: str) -> None:
    if not channels.mail_server:
        if channels.app_env == "development":
            # Development only, where no mail server is configured: print the message.
            log.info("email to %s (no MAIL_SERVER set)\nSubject: %s\n\n%s", to, subject, text)
        else:
            log.warning("email not sent: MAIL_SERVER is not configured")
        return
    message = EmailMessage()
    message["From"] = channels.mail_sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    smtp_class = smtplib.SMTP_SSL if channels.mail_use_ssl else smtplib.SMTP
    with smtp_class(channels.mail_server, channels.mail_port, timeout=TIMEOUT_SECONDS) as smtp:
        if channels.mail_use_tls and not channels.mail_use_ssl:
            smtp.starttls(context=ssl.create_default_context())
        if channels.mail_username:
            smtp.login(channels.mail_username, channels.mail_password or "")
        smtp.send_message(message)


def _send_sms(channels: Channels, to: str, text: str) -> None:
    body = json.dumps({"to": to, "message": text}).encode()
    request = urllib.request.Request(
        channels.sms_webhook_url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        response.read()
