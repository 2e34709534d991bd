"""Clients allowed to speak the framed protocol, and their tokens (table ``clients``).

A token is a random secret (:func:`new_token`, 256 bits) shown once by ``attendance-db
add-client``; the table keeps only its SHA-256 (:func:`token_hash`). A plain, unsalted hash is
enough because the token is random and long: nobody can guess it from the hash, and the hash
lets the server find the client with one indexed lookup. Functions take a cursor, never commit.

Each client has a role (:data:`ROLES`: what it may ask, server/authorization.py) and, for the
roles other than admin, optionally the lectures it serves (table ``client_lectures``; none: every
lecture). Clients that existed before roles (schema version 1) became ``admin`` (migration 2).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from protocol.identifiers import check_client_name

#: A classroom PC that checks students in by their face (and shows the roster).
KIOSK = "kiosk"
#: The classroom camera (attendance-watch): detection, identification, presence samples.
CAMERA = "camera"
#: A professor's app: roll call, manual marks, uncertain check-ins, closing sessions, reports.
PROFESSOR = "professor"
#: Staff: every request, every lecture (enrolment too).
ADMIN = "admin"
#: Every role, least powerful first (the ENUM of clients.role).
ROLES = (KIOSK, CAMERA, PROFESSOR, ADMIN)


@dataclass(frozen=True)
class Client:
    name: str
    created_at: datetime.datetime
    revoked_at: datetime.datetime | None
    role: str = ADMIN
    #: The lecture codes the client serves; None: every lecture.
    lectures: frozenset[str] | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def describe_scope(self) -> str:
        """'every lecture' or the codes, for people."""
        return "every lecture" if self.lectures is None else ", ".join(sorted(self.lectures))


class ClientExistsError(ValueError):
    """add_client: an active client already has this name."""


def new_token() -> str:
    """A new client token: 64 hex digits (32 random bytes). Hex, so that a token never starts
    with '-' and can be given as ``--token VALUE`` on any command line."""
    return secrets.token_hex(32)


def token_hash(token: str) -> str:
    """What the table stores for a token: its SHA-256, 64 hex digits."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UnknownLectureError(ValueError):
    """add_client / set_role: a lecture code that is not in the lectures table."""


def check_role(role: str, lectures: Sequence[str]) -> None:
    """ValueError for an unknown role, or lectures given to an admin (who serves every lecture)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if role == ADMIN and lectures:
        raise ValueError("an admin client serves every lecture: --lecture is for the other roles")


def add_client(cur, name: str, token: str, *, role: str, lectures: Sequence[str] = ()) -> bool:
    """Register ``name`` with ``token`` (only its hash is stored), its ``role`` and the lecture
    codes (normalized) it serves (none: every lecture). True when the name is new.

    A revoked client's name can be added again: it gets the new token, role and lectures and is
    active again (False is returned). Raises ValueError for a bad name or role,
    UnknownLectureError for a lecture not in the database, ClientExistsError when an active
    client has the name.
    """
    check_client_name(name)
    check_role(role, lectures)
    lecture_ids = _lecture_ids(cur, lectures)
    cur.execute("SELECT client_id, revoked_at FROM clients WHERE name = %s FOR UPDATE", (name,))
    row = cur.fetchone()
    if row is not None and row[1] is None:
        raise ClientExistsError(f"client {name} exists and is active; revoke it first to issue a new token")
    if row is None:
        cur.execute(
            "INSERT INTO clients (name, token_sha256, role) VALUES (%s, %s, %s)", (name, token_hash(token), role)
        )
        client_id = cur.lastrowid
    else:
        client_id = row[0]
        cur.execute(
            "UPDATE clients SET token_sha256 = %s, role = %s, revoked_at = NULL, created_at = CURRENT_TIMESTAMP"
            " WHERE client_id = %s",
            (token_hash(token), role, client_id),
        )
    _replace_lectures(cur, client_id, lecture_ids)
    return row is None


def set_role(cur, name: str, *, role: str, lectures: Sequence[str] = ()) -> Client | None:
    """Give an existing client (active or revoked) another role and lectures, keeping its token.
    Returns the client as it is now, None when there is no such client. Errors as add_client."""
    check_role(role, lectures)
    lecture_ids = _lecture_ids(cur, lectures)
    cur.execute("SELECT client_id FROM clients WHERE name = %s FOR UPDATE", (name,))
    row = cur.fetchone()
    if row is None:
        return None
    cur.execute("UPDATE clients SET role = %s WHERE client_id = %s", (role, row[0]))
    _replace_lectures(cur, row[0], lecture_ids)
    return get_client(cur, name)


def _lecture_ids(cur, codes: Iterable[str]) -> list[int]:
    """The lecture_id of each code (normalized already). :raises UnknownLectureError:"""
    ids = []
    for code in dict.fromkeys(codes):
        cur.execute("SELECT lecture_id FROM lectures WHERE code = %s", (code,))
        row = cur.fetchone()
        if row is None:
            raise UnknownLectureError(f"no lecture {code} in the database (import its roster first)")
        ids.append(row[0])
    return ids


def _replace_lectures(cur, client_id: int, lecture_ids: Sequence[int]) -> None:
    cur.execute("DELETE FROM client_lectures WHERE client_id = %s", (client_id,))
    if lecture_ids:
        cur.executemany(
            "INSERT INTO client_lectures (client_id, lecture_id) VALUES (%s, %s)",
            [(client_id, lecture_id) for lecture_id in lecture_ids],
        )


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


_SELECT_CLIENTS = "SELECT client_id, name, created_at, revoked_at, role, token_sha256 FROM clients"


def _clients(cur, where: str = "", args: tuple = ()) -> list[tuple[str, Client]]:
    """(token hash, client) of the clients matching ``where`` (a condition of this module's
    own text, values in ``args``), by name, each with its lectures."""
    cur.execute(f"{_SELECT_CLIENTS} {where} ORDER BY name", args)
    rows = cur.fetchall()
    if not rows:
        return []
    ids = [row[0] for row in rows]
    cur.execute(
        "SELECT cl.client_id, l.code FROM client_lectures cl JOIN lectures l ON l.lecture_id = cl.lecture_id"
        f" WHERE cl.client_id IN ({', '.join(['%s'] * len(ids))})",
        ids,
    )
    codes: dict[int, set[str]] = {}
    for client_id, code in cur.fetchall():
        codes.setdefault(client_id, set()).add(code)
    return [
        (sha, Client(name, created, revoked, role, frozenset(codes[cid]) if cid in codes else None))
        for cid, name, created, revoked, role, sha in rows
    ]


def get_client(cur, name: str) -> Client | None:
    found = _clients(cur, "WHERE name = %s", (name,))
    return found[0][1] if found else None


def list_clients(cur) -> list[Client]:
    """Every client, active or revoked, by name."""
    return [client for _sha, client in _clients(cur)]


def clients_by_token_hash(cur) -> dict[str, Client]:
    """Every client (active or revoked) by its token's hash: what the server keeps in memory."""
    return dict(_clients(cur))


def client_for_token(cur, token: str) -> Client | None:
    """The client this token was issued to (revoked or not), or None for an unknown token."""
    found = _clients(cur, "WHERE token_sha256 = %s", (token_hash(token),))
    return found[0][1] if found else None
