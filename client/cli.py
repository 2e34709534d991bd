"""``attendance-client``: a headless client for scripts; prints JSON on stdout.

    attendance-client --server H:P recognize IMAGE [--lecture CODE]
    attendance-client --server H:P roster CODE
    attendance-client --server H:P mark CODE STUDENT_ID [--status present]
    attendance-client --server H:P checkin CODE IMAGE [IMAGE ...] [--no-mark]
    attendance-client --server H:P enroll STUDENT_ID PHOTO [PHOTO ...] [--name NAME] [--force]
    attendance-client --server H:P pending CODE
    attendance-client --server H:P resolve PENDING_ID (--student STUDENT_ID | --reject)

The framed protocol needs the client's token (``attendance-db add-client NAME --role ROLE``): ``--token`` or
the ATTENDANCE_TOKEN environment variable (better: it does not show in the process list).
``--cafile CA.pem`` (or ``--tls`` for the system's authorities) speaks TLS and verifies the server.

``--legacy`` sends the request as a 2019 client would (one payload per connection, no token) and
prints the server's raw reply as {"reply": "..."}. Exit status: 0 answered, 1 error reply, 2 bad
usage, 3 server unreachable (or its TLS certificate not trusted).

Also ``python -m client.cli`` (``python -m client`` starts the desktop app).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from attendance_version import add_version_option
from client.connection import TOKEN_ENV, FramedClient, ServerError, legacy_request, parse_address, tls_context
from protocol.identifiers import STATUSES, check_student_id, normalize_lecture_code


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="attendance-client", description=__doc__.split("\n\n")[0])
    add_version_option(parser)
    parser.add_argument("--server", default="127.0.0.1:9009", help="HOST:PORT (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a reply")
    parser.add_argument("--legacy", action="store_true", help="speak the 2019 one-shot protocol")
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"client token from attendance-db add-client (default: ${TOKEN_ENV})",
    )
    parser.add_argument("--cafile", type=Path, help="speak TLS; trust the server certificate this CA (PEM) signed")
    parser.add_argument("--tls", action="store_true", help="speak TLS; trust the system's certificate authorities")
    commands = parser.add_subparsers(dest="command", required=True)
    recognize = commands.add_parser("recognize", help="find and identify every face in an image")
    recognize.add_argument("image", type=Path)
    recognize.add_argument("--lecture", help="match only this lecture's students")
    roster = commands.add_parser("roster", help="a lecture's students and today's marks")
    roster.add_argument("lecture")
    mark = commands.add_parser("mark", help="mark one student in today's session")
    mark.add_argument("lecture")
    mark.add_argument("student_id")
    mark.add_argument("--status", default="present", choices=STATUSES)
    mark.add_argument("--source", default="checkin", choices=["checkin", "rollcall", "manual"])
    checkin = commands.add_parser(
        "checkin", help="check in with several frames of one face: accepted, uncertain or unknown"
    )
    checkin.add_argument("lecture")
    checkin.add_argument("images", type=Path, nargs="+", metavar="IMAGE")
    checkin.add_argument("--no-mark", action="store_true", help="decide only; write nothing")
    enroll = commands.add_parser("enroll", help="enrol a student with about 5 photos")
    enroll.add_argument("student_id")
    enroll.add_argument("images", type=Path, nargs="+", metavar="PHOTO")
    enroll.add_argument("--name", help="the student's name, for a student not known yet")
    enroll.add_argument(
        "--force",
        action="store_true",
        help="store photos that look like another student or unlike the student's others",
    )
    pending = commands.add_parser("pending", help="today's uncertain check-ins waiting for the professor")
    pending.add_argument("lecture")
    resolve = commands.add_parser("resolve", help="confirm or reject an uncertain check-in")
    resolve.add_argument("pending_id", type=int)
    who = resolve.add_mutually_exclusive_group(required=True)
    who.add_argument("--student", dest="student_id", help="confirm it as this student")
    who.add_argument("--reject", action="store_true", help="reject it")
    resolve.add_argument("--status", default="present", choices=STATUSES)
    return parser.parse_args(argv)


#: Commands the 2019 protocol has (the others exist only in the framed protocol).
LEGACY_COMMANDS = ("recognize", "roster", "mark")


def _legacy_payload(args: argparse.Namespace) -> bytes:
    if args.command == "recognize":
        return args.image.read_bytes()
    if args.command == "roster":
        return args.lecture.encode("ascii")
    return (args.student_id + args.lecture).encode("ascii")


def _framed_call(client: FramedClient, args: argparse.Namespace):
    if args.command == "recognize":
        return client.recognize(args.image.read_bytes(), args.lecture)
    if args.command == "roster":
        return client.roster(args.lecture)
    if args.command == "checkin":
        return client.checkin(args.lecture, [path.read_bytes() for path in args.images], mark=not args.no_mark)
    if args.command == "enroll":
        return client.enroll(
            args.student_id, [path.read_bytes() for path in args.images], name=args.name, force=args.force
        )
    if args.command == "pending":
        return client.pending(args.lecture)
    if args.command == "resolve":
        return client.resolve_pending(args.pending_id, None if args.reject else args.student_id, status=args.status)
    return client.mark(args.lecture, args.student_id, status=args.status, source=args.source)


def _as_json(response) -> dict:
    fields = dataclasses.asdict(response)
    fields.pop("request_id", None)
    return fields


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        host, port = parse_address(args.server)
        if getattr(args, "lecture", None) is not None:  # "" too: it is not a lecture code
            args.lecture = normalize_lecture_code(args.lecture)
        if getattr(args, "student_id", None) is not None:
            check_student_id(args.student_id)
        for image in [args.image] if args.command == "recognize" else getattr(args, "images", []):
            if not image.is_file():
                raise ValueError(f"no such image: {image}")
        if args.legacy and args.command not in LEGACY_COMMANDS:
            raise ValueError(f"2019 clients have no {args.command}; drop --legacy")
    except ValueError as exc:
        print(f"attendance-client: {exc}", file=sys.stderr)
        return 2
    try:
        if args.legacy:
            reply = legacy_request(host, port, _legacy_payload(args), timeout=args.timeout)
            print(json.dumps({"reply": reply.decode("utf-8", "replace")}, ensure_ascii=False))
            return 0
        context = tls_context(args.cafile) if (args.cafile or args.tls) else None
        with FramedClient(host, port, token=args.token, timeout=args.timeout, ssl_context=context) as client:
            print(json.dumps(_as_json(_framed_call(client, args)), ensure_ascii=False, indent=2))
        return 0
    except ServerError as exc:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message}}, ensure_ascii=False))
        return 1
    except OSError as exc:
        print(f"attendance-client: cannot reach {host}:{port}: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
