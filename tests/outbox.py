"""Real delivery endpoints on loopback: an SMTP server (aiosmtpd) and an HTTP SMS webhook."""

from __future__ import annotations

import email
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.server import free_port


class Mailbox:
    """Messages received by the SMTP server, waited for by recipient."""

    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, to: str, count: int = 1, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages if m["To"] == to]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"no email to {to} within {timeout} s")


class SmsInbox(ThreadingHTTPServer):
    """An SMS provider stand-in: records every JSON POST it is sent."""

    def __init__(self):
        self.received: list[dict] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                inbox.received.append(json.loads(self.rfile.read(length)))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sms"

    def wait_for(self, to: str, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.received if m["to"] == to]
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"no SMS to {to} within {timeout} s")


def start_smtp() -> tuple[Controller, Mailbox]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, mailbox


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def body_of(message) -> str:
    return message.get_payload(decode=True).decode()
