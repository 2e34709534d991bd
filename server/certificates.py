"""The validity of the server's TLS certificate (``--tls-cert``), checked at start-up.

An expired certificate makes every TLS client refuse the server (the framed protocol over TLS
stops working while the 2019 plain payloads go on), and nothing in the server said so. At start
the server reads the certificate's ``notAfter`` and logs an error when it has passed, a warning
when it is less than :data:`WARN_DAYS` away. It starts all the same: the 2019 clients, which
need no certificate, keep being served, and the log line says what to renew.

The date is read from the first certificate of the PEM file with a few lines of DER (the X.509
``Validity`` field), so no extra package is needed.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
from pathlib import Path

#: Days before the certificate's end from which start-up warns.
WARN_DAYS = 30

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.S)
_SEQUENCE, _VERSION, _UTC_TIME, _GENERALIZED_TIME = 0x30, 0xA0, 0x17, 0x18


class CertificateFormatError(ValueError):
    """The file holds no certificate whose validity can be read."""


def _element(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of the content, end of the content) of the DER element at ``pos``."""
    if pos + 2 > len(der):
        raise CertificateFormatError("truncated certificate")
    tag, length = der[pos], der[pos + 1]
    pos += 2
    if length & 0x80:
        size = length & 0x7F
        if not 0 < size <= 4 or pos + size > len(der):
            raise CertificateFormatError("bad length in the certificate")
        length = int.from_bytes(der[pos : pos + size], "big")
        pos += size
    if pos + length > len(der):
        raise CertificateFormatError("truncated certificate")
    return tag, pos, pos + length


def _time(der: bytes, pos: int) -> tuple[dt.datetime, int]:
    tag, start, end = _element(der, pos)
    text = der[start:end].decode("ascii", "replace")
    try:
        if tag == _UTC_TIME:  # YYMMDDHHMMSSZ, years 1950-2049
            moment = dt.datetime.strptime(text, "%y%m%d%H%M%SZ")
            if moment.year >= 2050:
                moment = moment.replace(year=moment.year - 100)
        elif tag == _GENERALIZED_TIME:  # YYYYMMDDHHMMSSZ
            moment = dt.datetime.strptime(text, "%Y%m%d%H%M%SZ")
        else:
            raise CertificateFormatError(f"unexpected element {tag:#x} where a time should be")
    except ValueError as exc:
        raise CertificateFormatError(f"bad time {text!r} in the certificate") from exc
    return moment.replace(tzinfo=dt.UTC), end


def validity(der: bytes) -> tuple[dt.datetime, dt.datetime]:
    """(notBefore, notAfter), in UTC, of a DER certificate."""
    tag, cert, _ = _element(der, 0)
    if tag != _SEQUENCE:
        raise CertificateFormatError("not a certificate")
    tag, pos, _ = _element(der, cert)  # tbsCertificate
    if tag != _SEQUENCE:
        raise CertificateFormatError("not a certificate")
    tag, _, end = _element(der, pos)
    if tag == _VERSION:
        pos = end
    for _field in ("serialNumber", "signature", "issuer"):
        pos = _element(der, pos)[2]
    tag, pos, _ = _element(der, pos)  # validity
    if tag != _SEQUENCE:
        raise CertificateFormatError("no validity in the certificate")
    not_before, pos = _time(der, pos)
    not_after, _ = _time(der, pos)
    return not_before, not_after


def certificate_validity(path: Path) -> tuple[dt.datetime, dt.datetime]:
    """(notBefore, notAfter) of the first certificate of a PEM file."""
    match = _PEM.search(Path(path).read_bytes())
    if match is None:
        raise CertificateFormatError(f"no PEM certificate in {path}")
    try:
        der = base64.b64decode(match.group(1), validate=False)
    except ValueError as exc:
        raise CertificateFormatError(f"bad base64 in {path}") from exc
    return validity(der)


def expiry_problem(
    path: Path, not_after: dt.datetime, now: dt.datetime, warn_days: int = WARN_DAYS
) -> tuple[int, str] | None:
    """(logging level, message) when the certificate has expired or expires within
    ``warn_days``; None when it is fine."""
    left = not_after - now
    when = f"{not_after:%Y-%m-%d %H:%M} UTC"
    if left <= dt.timedelta(0):
        return (
            logging.ERROR,
            f"the TLS certificate {path} expired on {when}: TLS clients refuse this server until it is "
            "renewed (--tls-cert; docs/deploy.md); 2019 payloads are still served",
        )
    if left < dt.timedelta(days=warn_days):
        days = left.days
        soon = "in less than a day" if days == 0 else f"in {days} day{'' if days == 1 else 's'}"
        return logging.WARNING, f"the TLS certificate {path} expires on {when}, {soon}: renew it (--tls-cert)"
    return None


def log_certificate_expiry(path: Path, logger: logging.Logger, now: dt.datetime | None = None) -> None:
    """Log an error (expired) or a warning (expires within WARN_DAYS) about ``path``."""
    try:
        _, not_after = certificate_validity(path)
    except (OSError, CertificateFormatError) as exc:
        logger.warning("cannot read the validity of the TLS certificate %s: %s", path, exc)
        return
    problem = expiry_problem(path, not_after, now or dt.datetime.now(dt.UTC))
    if problem is not None:
        logger.log(*problem)
    else:
        logger.info("TLS certificate %s valid until %s", path, f"{not_after:%Y-%m-%d} UTC")
