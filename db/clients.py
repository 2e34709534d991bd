"""Clients allowed to speak the framed protocol, and their tokens (table ``clients``).

A token is a random secret (:func:`new_token`, 256 bits) shown once by ``attendance-db
add-client``; the table keeps only its SHA-256 (:func:`token_hash`). A plain, unsalted hash is
enough because the token is random and long: nobody can guess it from the hash, and the hash
lets the server find the client with one indexed lookup. Functions take a cursor, never commit.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from protocol.identifiers import check_client_name


@dataclass(frozen=True)
class Client:
    name: str
    created_at: datetime.datetime
    revoked_at: datetime.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ClientExistsError(ValueError):
    """add_client: an active client already has this name."""


def new_token() -> str:
    """A new client token: 64 hex digits (32 random bytes). Hex, so that a token never starts
    with '-' and can be given as ``--token VALUE`` on any command line."""
    return secrets.token_hex(32)


def token_hash(token: str) -> str:
    """What the table stores for a token: its SHA-256, 64 hex digits."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_client(cur, name: str, token: str) -> bool:
    """Register ``name`` with ``token`` (only its hash is stored). True when the name is new.

    A revoked client's name can be added again: it gets the new token and is active again
    (False is returned). Raises ValueError for a bad name, ClientExistsError when an active
    client has the name.
    """
    check_client_name(name)
    cur.execute("SELECT revoked_at FROM clients WHERE name = %s FOR UPDATE", (name,))
    row = cur.fetchone()
    if row is None:
        cur.execute("INSERT INTO clients (name, token_sha256) VALUES (%s, %s)", (name, token_hash(token)))
        return True
    if row[0] is None:
        raise ClientExistsError(f"client {name} exists and is active; revoke it first to issue a new token")
    cur.execute(
        "UPDATE clients SET token_sha256 = %s, revoked_at = NULL, created_at = CURRENT_TIMESTAMP WHERE name = %s",
        (token_hash(token), name),
    )
    return False


def revoke_client(cur, name: str) -> Client | None:
    """Revoke the client's token (from now on its connections are refused).

    Returns the client as it is now (already revoked clients keep their first revocation time),
    or None when there is no such client.
    """
    cur.execute(
        "UPDATE clients SET revoked_at = CURRENT_TIMESTAMP WHERE name = %s AND revoked_at IS NULL",
        (name,),
    )
    return get_client(cur, name)


def get_client(cur, name: str) -> Client | None:
    cur.execute("SELECT name, created_at, revoked_at FROM clients WHERE name = %s", (name,))
    row = cur.fetchone()
    return None if row is None else Client(*row)


def list_clients(cur) -> list[Client]:
    """Every client, active or revoked, by name."""
    cur.execute("SELECT name, created_at, revoked_at FROM clients ORDER BY name")
    return [Client(*row) for row in cur.fetchall()]


def client_for_token(cur, token: str) -> Client | None:
    """The client this token was issued to (revoked or not), or None for an unknown token."""
    cur.execute(
        "SELECT name, created_at, revoked_at FROM clients WHERE token_sha256 = %s",
        (token_hash(token),),
    )
    row = cur.fetchone()
    return None if row is None else Client(*row)
