"""Delivery channels for rendered notices: e-mail (SMTP), signed webhooks, and files in
the outbox.

Every channel has one method, ``send(notice, idempotency_key) -> DeliveryResult``. It
does not raise for a failed delivery; the result says whether the failure is
*permanent* (retrying cannot help: a refused recipient, a rejected request, bad
credentials, an untrusted certificate; the outbox dead-letters it) or *transient* (the
server is down, slow or busy; the outbox tries again later). A malformed idempotency
key is a programming error and raises ``ValueError``.

The idempotency key (one per evaluation, recipient and notice kind) travels with every
delivery so that a re-delivery is recognisable: it makes the e-mail's ``Message-ID``,
it is a header and a body field of the webhook, and it names the outbox files, so a
second delivery overwrites the first instead of adding a copy.

The webhook signature scheme is specified in ``docs/notifications.md``;
:func:`verify_signature` is its reference verifier.
"""

from __future__ import annotations

import contextlib
import email.utils
import errno
import hashlib
import hmac
import json
import os
import random
import re
import smtplib
import ssl as ssl_module
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx

from ecqm.settings import DEFAULT_USER_AGENT
from transforms.notify.render import Notice, one_line

SIGNATURE_HEADER = "X-Ecqm-Signature"
TIMESTAMP_HEADER = "X-Ecqm-Timestamp"
IDEMPOTENCY_HEADER = "X-Ecqm-Idempotency-Key"
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE_S = 300
# Printable ASCII without spaces: safe in a mail header, a HTTP header and a log line.
_KEY = re.compile(r"[\x21-\x7e]{1,200}")
_ERROR_CHARS = 300


@dataclass(frozen=True)
class DeliveryResult:
    """What one ``send`` achieved.

    ``status`` is the SMTP reply code or HTTP status when there was one; ``attempts``
    counts the tries inside this ``send``; ``error`` is text for people. When ``ok`` is
    false, ``permanent`` tells the outbox to dead-letter (true) or retry later (false),
    and ``retry_after`` (seconds) is the wait the server asked for, when it asked for
    longer than the channel waits itself. ``receipt`` identifies the delivery: the
    Message-ID, the JSON file written, or the start of the webhook's reply.
    """

    ok: bool
    channel: str
    attempts: int = 1
    status: int | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None
    receipt: str | None = None

    @property
    def retryable(self) -> bool:
        return not self.ok and not self.permanent


@runtime_checkable
class Channel(Protocol):
    """A way to deliver a notice. ``send`` returns a result and never raises for a
    failed delivery."""

    name: str

    def send(self, notice: Notice, idempotency_key: str) -> DeliveryResult: ...


def check_idempotency_key(key: str) -> str:
    """``key`` if it is 1–200 printable ASCII characters without spaces, else ``ValueError``."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(
            f"an idempotency key is 1-200 printable ASCII characters without spaces, got {key!r}"
        )
    return key


def notice_document(notice: Notice, idempotency_key: str) -> dict[str, Any]:
    """The JSON document a webhook posts and the ``.json`` file holds: the notice's
    payload with the idempotency key inside it, so that the signature covers the key."""
    return {"idempotency_key": check_idempotency_key(idempotency_key), **notice.payload}


def _error_text(text: Any) -> str:
    return one_line(text, _ERROR_CHARS)


# ------------------------------------------------------------------------ e-mail


def message_id(idempotency_key: str, domain: str) -> str:
    """A Message-ID that depends on the key alone, so a receiver can drop a re-delivery.

    >>> message_id("eval-42:seller:seller_result", "notify.example.cn")
    '<ecqm.f2e5b85b8c282a31a3871922b5c09d53a1f45d8f@notify.example.cn>'
    """
    digest = hashlib.sha256(check_idempotency_key(idempotency_key).encode("ascii")).hexdigest()
    return f"<ecqm.{digest[:40]}@{domain}>"


class SmtpChannel:
    """Send notices as e-mail: multipart/alternative, a plain-text and an HTML part,
    both UTF-8; the subject encoded per RFC 2047.

    ``ssl`` connects with TLS from the start (SMTPS, usually port 465); ``starttls``
    upgrades a plain connection (submission, usually port 587). Server certificates
    are verified against the system's CAs, or against ``ca_file`` alone when it is
    given. A password is never sent over an unencrypted connection unless
    ``allow_insecure_auth`` says so (for a relay on localhost, or tests).
    """

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int = 25,
        username: str | None = None,
        password: str | None = None,
        *,
        starttls: bool = False,
        ssl: bool = False,
        timeout: float = 30.0,
        sender: str,
        ca_file: str | os.PathLike[str] | None = None,
        allow_insecure_auth: bool = False,
        message_id_domain: str | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if starttls and ssl:
            raise ValueError("choose ssl (TLS from the start) or starttls, not both")
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        if username is not None and not (starttls or ssl) and not allow_insecure_auth:
            raise ValueError(
                "refusing to send SMTP credentials over an unencrypted connection: "
                "set starttls or ssl (or allow_insecure_auth for a local relay)"
            )
        display_name, address = email.utils.parseaddr(sender)
        if "@" not in address:
            raise ValueError(f"sender must be an e-mail address, got {sender!r}")
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.starttls = starttls
        self.ssl = ssl
        self.timeout = timeout
        self.sender = Address(display_name=display_name, addr_spec=address)
        self.ca_file = ca_file
        self.message_id_domain = message_id_domain or address.rpartition("@")[2]
        self.local_hostname = local_hostname

    def build_message(self, notice: Notice, idempotency_key: str) -> EmailMessage:
        """The message for ``notice``. Raises ``ValueError`` for an address that is not
        one, or a header that would need a line break."""
        key = check_idempotency_key(idempotency_key)
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = Address(
            display_name=one_line(notice.recipient.name, 100),
            addr_spec=notice.recipient.address.strip(),
        )
        msg["Subject"] = notice.subject
        msg["Date"] = email.utils.formatdate(usegmt=True)
        msg["Message-ID"] = message_id(key, self.message_id_domain)
        msg[IDEMPOTENCY_HEADER] = key
        msg["X-Ecqm-Notice-Kind"] = notice.kind
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
        msg.set_content(notice.text, charset="utf-8")
        msg.add_alternative(notice.html, subtype="html", charset="utf-8")
        return msg

    def ssl_context(self) -> ssl_module.SSLContext:
        return ssl_module.create_default_context(
            cafile=os.fspath(self.ca_file) if self.ca_file else None
        )

    def send(self, notice: Notice, idempotency_key: str) -> DeliveryResult:
        key = check_idempotency_key(idempotency_key)
        try:
            msg = self.build_message(notice, key)
        except (ValueError, HeaderParseError) as exc:  # not an address, a line break
            return self._failed(f"cannot build the message: {exc}", permanent=True)
        recipient = str(msg["To"].addresses[0].addr_spec)
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._connect()
            if self.starttls:
                smtp.starttls(context=self.ssl_context())
                smtp.ehlo()
            if self.username is not None and self.password is not None:
                smtp.login(self.username, self.password)
            refused = smtp.send_message(msg, from_addr=self.sender.addr_spec, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            return self._refused("recipient refused", code, text)
        except smtplib.SMTPResponseException as exc:  # sender, data, auth, greeting, HELO
            return self._refused(type(exc).__name__, exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPNotSupportedError as exc:  # no STARTTLS or AUTH on the server
            return self._failed(f"server does not support it: {exc}", permanent=True)
        except ssl_module.SSLCertVerificationError as exc:
            return self._failed(f"server certificate not trusted: {exc}", permanent=True)
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out, TLS
            return self._failed(f"{type(exc).__name__}: {exc or 'connection failed'}")
        finally:
            if smtp is not None:
                _quit_quietly(smtp)
        if refused:  # only possible with several recipients; kept for completeness
            code, text = next(iter(refused.values()))
            return self._refused("recipient refused", code, text)
        return DeliveryResult(ok=True, channel=self.name, status=250, receipt=msg["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        if self.ssl:
            return smtplib.SMTP_SSL(
                self.host,
                self.port,
                local_hostname=self.local_hostname,
                timeout=self.timeout,
                context=self.ssl_context(),
            )
        return smtplib.SMTP(
            self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
        )

    def _refused(self, what: str, code: int, text: bytes | str) -> DeliveryResult:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        # 5xx: the server will say the same next time. 4xx (and anything odd): try again.
        return self._failed(f"{what}: {code} {text}", permanent=500 <= code <= 599, status=code)

    def _failed(
        self, error: str, *, permanent: bool = False, status: int | None = None
    ) -> DeliveryResult:
        return DeliveryResult(
            ok=False,
            channel=self.name,
            status=status,
            error=_error_text(error),
            permanent=permanent,
        )


def _quit_quietly(smtp: smtplib.SMTP) -> None:
    # The message is delivered (or not) by now; a failed QUIT must not change the verdict.
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.quit()
    with contextlib.suppress(OSError):
        smtp.close()


# ------------------------------------------------------------------------ webhooks


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The ``X-Ecqm-Signature`` value: ``sha256=`` and the lowercase hex HMAC-SHA256,
    keyed with ``secret`` (UTF-8), of the ASCII timestamp, a dot, and the body bytes."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    message = str(timestamp).encode("ascii") + b"." + body
    return SIGNATURE_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str | bytes,
    timestamp: str | int | None,
    body: bytes | str,
    header: str | None,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> bool:
    """Whether a webhook request is authentic and fresh.

    ``timestamp`` and ``header`` are the ``X-Ecqm-Timestamp`` and ``X-Ecqm-Signature``
    header values, ``body`` the raw body exactly as received (verify before parsing the
    JSON). False when the timestamp is not whole seconds or is more than
    ``tolerance_s`` away from ``now`` (either way), or the signature does not match.
    Comparison takes constant time.

    >>> body = b'{"idempotency_key":"k1"}'
    >>> verify_signature("s3cret", 1800000000, body, sign("s3cret", 1800000000, body),
    ...                  now=1800000010)
    True
    """
    if timestamp is None or header is None:
        return False
    ts_text = str(timestamp).strip()
    if not (ts_text.isascii() and ts_text.isdigit()) or len(ts_text) > 12:
        return False
    moment = time.time() if now is None else now
    if abs(moment - int(ts_text)) > tolerance_s:
        return False
    raw = body.encode("utf-8") if isinstance(body, str) else body
    expected = sign(secret, ts_text, raw).encode("ascii")
    given = header.strip().encode("utf-8", "replace")
    return hmac.compare_digest(expected, given)


class WebhookChannel:
    """POST each notice as signed JSON to ``url``, retrying transient failures.

    Connection errors, timeouts, 408, 429 and 5xx are retried up to ``max_attempts``
    tries in all, waiting ``backoff``·2ⁿ seconds (n = 0, 1, …; capped at
    ``max_backoff``) between tries, each wait scaled by a random factor in [0.5, 1)
    so that many senders do not retry in step. A ``Retry-After`` (seconds or an HTTP
    date) is honoured as the least wait; one longer than ``max_backoff`` ends the
    tries at once and comes back as ``retry_after`` for the outbox to schedule. Every
    try is signed afresh with the current time. Other statuses (3xx: redirects are not
    followed; 4xx) are permanent failures. ``timeout`` (seconds) applies to each of
    connecting, sending and reading.
    """

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        verify: bool | str | os.PathLike[str] = True,
        user_agent: str = DEFAULT_USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"a webhook URL is http or https with a host, got {url!r}")
        if not secret:
            raise ValueError("a webhook needs a secret to sign with")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if backoff < 0 or max_backoff < 0 or timeout <= 0:
            raise ValueError("timeout must be positive, backoff and max_backoff not negative")
        self.url = url
        self._secret = secret
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        # A CA bundle becomes an SSL context: httpx 0.28 deprecates a path for verify.
        self.verify: bool | ssl_module.SSLContext = (
            verify
            if isinstance(verify, bool)
            else ssl_module.create_default_context(cafile=os.fspath(verify))
        )
        self.user_agent = user_agent
        self._sleep = sleep
        self._clock = clock

    def __repr__(self) -> str:  # never show the secret
        return f"WebhookChannel(url={self.url!r}, max_attempts={self.max_attempts})"

    def body(self, notice: Notice, idempotency_key: str) -> bytes:
        """The exact bytes posted: compact UTF-8 JSON, keys sorted, Chinese unescaped."""
        document = notice_document(notice, idempotency_key)
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return text.encode("utf-8")

    def headers(self, body: bytes, idempotency_key: str, timestamp: int) -> dict[str, str]:
        return {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": self.user_agent,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            IDEMPOTENCY_HEADER: idempotency_key,
        }

    def send(self, notice: Notice, idempotency_key: str) -> DeliveryResult:
        key = check_idempotency_key(idempotency_key)
        body = self.body(notice, key)
        result = DeliveryResult(ok=False, channel=self.name, attempts=0)
        with httpx.Client(
            timeout=self.timeout, verify=self.verify, follow_redirects=False
        ) as client:
            for attempt in range(1, self.max_attempts + 1):
                result = self._attempt(client, body, key, attempt)
                if result.ok or result.permanent or attempt == self.max_attempts:
                    break
                delay = self.delay(attempt, result.retry_after)
                if delay is None:  # the server wants a longer pause than we wait here
                    break
                self._sleep(delay)
        return result

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait after try number ``attempt`` failed; None when the server's
        ``retry_after`` is longer than ``max_backoff``."""
        if retry_after is not None and retry_after > self.max_backoff:
            return None
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        jittered = base * (0.5 + random.random() / 2)
        return max(jittered, retry_after or 0.0)

    def _attempt(self, client: httpx.Client, body: bytes, key: str, attempt: int) -> DeliveryResult:
        def failed(error: str, **kw: Any) -> DeliveryResult:
            return DeliveryResult(
                ok=False, channel=self.name, attempts=attempt, error=_error_text(error), **kw
            )

        headers = self.headers(body, key, int(self._clock()))
        try:
            with client.stream("POST", self.url, content=body, headers=headers) as response:
                reply = _read_some(response)
        except httpx.TimeoutException as exc:
            return failed(f"timed out after {self.timeout:g} s ({type(exc).__name__})")
        except httpx.TransportError as exc:  # refused, reset, TLS, DNS
            if _untrusted_certificate(exc):  # needs a person (or a CA bundle), not a retry
                return failed(f"server certificate not trusted: {exc}", permanent=True)
            return failed(f"{type(exc).__name__}: {exc or 'connection failed'}")
        status = response.status_code
        if 200 <= status <= 299:
            return DeliveryResult(
                ok=True, channel=self.name, attempts=attempt, status=status, receipt=reply or None
            )
        error = f"HTTP {status}" + (f": {reply}" if reply else "")
        if status in (408, 429) or 500 <= status <= 599:
            retry_after = _retry_after(response.headers.get("Retry-After"), self._clock())
            return failed(error, status=status, retry_after=retry_after)
        if 300 <= status <= 399:
            error += f" (redirect to {response.headers.get('Location', '?')} not followed)"
        return failed(error, status=status, permanent=True)


def _untrusted_certificate(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):  # the ssl error sits a few causes down (httpcore, then httpx)
        if seen is None:
            return False
        if isinstance(seen, ssl_module.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _read_some(response: httpx.Response, limit: int = 2048) -> str:
    """The start of a reply, for the record; a receiver's big reply is not read whole."""
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= limit:
            break
    return _error_text(data[:limit].decode("utf-8", "replace"))


def _retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` in seconds from ``now``: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


# ------------------------------------------------------------------------ files


def file_stem(idempotency_key: str) -> str:
    """The outbox file name (without extension) for a key: the key's safe characters,
    for people, and a hash of the whole key, so two keys never share a name.

    >>> file_stem("eval-42:seller:seller_result")
    'eval-42_seller_seller_result-f2e5b85b8c282a31'
    """
    key = check_idempotency_key(idempotency_key)
    digest = hashlib.sha256(key.encode("ascii")).hexdigest()[:16]
    readable = re.sub(r"[^A-Za-z0-9_-]+", "_", key).strip("_-")[:80]
    return f"{readable}-{digest}" if readable else digest


class FileChannel:
    """Write notices into the outbox: ``<stem>.txt``, ``<stem>.html`` and
    ``<stem>.json`` (the same document a webhook posts), named by the idempotency key
    alone (:func:`file_stem`), never by recipient text.

    Each file is written to a temporary file beside it, flushed to disk and renamed
    over the target, so a reader never sees half a file and a re-delivery replaces the
    earlier one. The ``.json`` file is written last: when it is there, so are the
    other two.
    """

    name = "file"

    def __init__(self, outbox_dir: str | os.PathLike[str]) -> None:
        self.outbox_dir = Path(outbox_dir)

    def paths(self, idempotency_key: str) -> dict[str, Path]:
        stem = file_stem(idempotency_key)
        return {ext: self.outbox_dir / f"{stem}.{ext}" for ext in ("txt", "html", "json")}

    def send(self, notice: Notice, idempotency_key: str) -> DeliveryResult:
        paths = self.paths(idempotency_key)
        document = json.dumps(
            notice_document(notice, idempotency_key), ensure_ascii=False, indent=2, sort_keys=True
        )
        contents = {"txt": notice.text, "html": notice.html, "json": document + "\n"}
        try:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            for ext, path in paths.items():
                write_atomic(path, contents[ext].encode("utf-8"))
        except OSError as exc:
            return DeliveryResult(
                ok=False,
                channel=self.name,
                error=_error_text(f"{type(exc).__name__}: {exc}"),
                permanent=_needs_a_person(exc),
            )
        return DeliveryResult(ok=True, channel=self.name, receipt=str(paths["json"]))


def _needs_a_person(exc: OSError) -> bool:
    """Permissions, a read-only disk, or a file where the outbox folder should be do not
    clear by themselves; a full disk or an I/O error may."""
    return isinstance(
        exc, PermissionError | FileExistsError | NotADirectoryError | IsADirectoryError
    ) or exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (temporary file, fsync, ``os.replace``)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; notices are for people to read
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
