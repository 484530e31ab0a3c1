"""Local mail sink for ``make run``: an SMTP server (aiosmtpd) that stores every mail in a Maildir.

    python -m notifications.devmail --host 127.0.0.1 --port 1025 --dir run/mail

Point Django at it with ``EMAIL_URL=smtp://127.0.0.1:1025`` and read the mail at ``/dev/boite-mail/``
(DEBUG only). Nothing leaves the machine: the sink delivers nothing, it only keeps what it receives.
"""

from __future__ import annotations

import argparse
import mailbox
import signal
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class MaildirHandler:
    """aiosmtpd handler: each accepted message is added to the Maildir with its envelope as headers."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        for sub in ("tmp", "new", "cur"):  # also when the folder exists already (e.g. made by `mkdir -p`)
            (self.directory / sub).mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(str(self.directory), create=True)

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", errors="replace")
        envelope_headers = (
            f"X-Envelope-From: {envelope.mail_from}\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\n"
        ).encode()
        self.maildir.add(envelope_headers + content.replace(b"\r\n", b"\n"))
        return "250 Message accepted for delivery"


def serve(*, host: str, port: int, directory: str | Path) -> Controller:
    """Start the sink in a background thread and return its controller (``.stop()`` to end it)."""
    controller = Controller(MaildirHandler(directory), hostname=host, port=port)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Boîte mail locale (SMTP → Maildir) pour le développement.")
    parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut 127.0.0.1)")
    parser.add_argument("--port", type=int, default=1025, help="port SMTP (défaut 1025)")
    parser.add_argument("--dir", default="run/mail", help="dossier Maildir (défaut run/mail)")
    args = parser.parse_args(argv)
    try:
        controller = serve(host=args.host, port=args.port, directory=args.dir)
    except OSError as exc:
        print(f"devmail: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(
        f"devmail: SMTP sink on smtp://{args.host}:{args.port}, mail stored in {Path(args.dir).resolve()} "
        f"(read it at /dev/boite-mail/)",
        flush=True,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
