"""A throwaway certificate authority and server certificate for TLS tests, made with the openssl
command (no Python package needed)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path  # give this to clients (cafile)
    server_cert: Path  # --tls-cert
    server_key: Path  # --tls-key


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory: Path, name: str = "test") -> TlsFiles:
    """A CA (valid 2 days) and a certificate it signed for localhost and 127.0.0.1."""
    if shutil.which("openssl") is None:
        raise RuntimeError("the openssl command is needed for the TLS tests")
    directory.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        f"{name}-ca.key",
        "-out",
        f"{name}-ca.pem",
        "-days",
        "2",
        "-subj",
        f"/CN={name} throwaway CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )
    _openssl(
        "req",
        *ec,
        "-keyout",
        f"{name}-server.key",
        "-out",
        f"{name}-server.csr",
        "-subj",
        "/CN=localhost",
        cwd=directory,
    )
    (directory / f"{name}-server.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\n"
        "subjectKeyIdentifier=hash\n"
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}-server.csr",
        "-CA",
        f"{name}-ca.pem",
        "-CAkey",
        f"{name}-ca.key",
        "-CAcreateserial",
        "-out",
        f"{name}-server.pem",
        "-days",
        "2",
        "-extfile",
        f"{name}-server.ext",
        cwd=directory,
    )
    return TlsFiles(directory / f"{name}-ca.pem", directory / f"{name}-server.pem", directory / f"{name}-server.key")
