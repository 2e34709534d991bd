"""server/certificates.py: the TLS certificate's end, read from a real certificate (openssl, as
testkit.tls makes them), and what start-up says about it."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess  # noqa: F401 - the certificates come from the openssl command: not a pure test (conftest.py)

import pytest

from server.certificates import CertificateFormatError, certificate_validity, expiry_problem, log_certificate_expiry
from testkit.servers import running_server
from testkit.tls import make_certificates


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("tls"))


def test_the_validity_of_a_real_certificate(tls):
    not_before, not_after = certificate_validity(tls.server_cert)
    now = dt.datetime.now(dt.UTC)
    assert not_before <= now < not_after
    assert dt.timedelta(days=1, hours=23) < not_after - not_before <= dt.timedelta(days=2)  # -days 2
    assert certificate_validity(tls.ca_cert)[1] - not_after < dt.timedelta(minutes=5)


def test_expired_soon_and_fine(tls):
    _, end = certificate_validity(tls.server_cert)
    level, message = expiry_problem(tls.server_cert, end, end + dt.timedelta(days=1))
    assert level == logging.ERROR and "expired on" in message and "renewed" in message
    level, message = expiry_problem(tls.server_cert, end, end - dt.timedelta(days=10, hours=1))
    assert level == logging.WARNING and "in 10 days" in message
    assert expiry_problem(tls.server_cert, end, end - dt.timedelta(hours=3))[1].endswith(
        "in less than a day: renew it (--tls-cert)"
    )
    assert expiry_problem(tls.server_cert, end, end - dt.timedelta(days=31)) is None


def test_an_expired_certificate_is_an_error_line(tls, caplog):
    _, end = certificate_validity(tls.server_cert)
    logger = logging.getLogger("test.certificates")
    with caplog.at_level(logging.INFO, logger="test.certificates"):
        log_certificate_expiry(tls.server_cert, logger, now=end + dt.timedelta(seconds=1))
    assert [(r.levelno, "expired" in r.getMessage()) for r in caplog.records] == [(logging.ERROR, True)]


def test_a_file_without_a_certificate_is_said(tmp_path, caplog):
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    with pytest.raises(CertificateFormatError):
        certificate_validity(junk)
    (tmp_path / "none.pem").write_text("nothing")
    with pytest.raises(CertificateFormatError):
        certificate_validity(tmp_path / "none.pem")


def test_the_server_warns_at_start_about_a_certificate_that_expires_soon(db_url, faces_dir, tls, caplog):
    with caplog.at_level(logging.INFO, logger="server.app"):
        with running_server(db_url, faces_dir / "knowns", workers=1, tls_cert=tls.server_cert, tls_key=tls.server_key):
            pass
    warnings = [r for r in caplog.records if r.name == "server.app" and "TLS certificate" in r.getMessage()]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert "expires on" in warnings[0].getMessage() and "in 1 day" in warnings[0].getMessage()
