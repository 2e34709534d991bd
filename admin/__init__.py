"""The ``attendance-db`` command (cli.py): database set-up and the administrator's tasks.

It lives apart from db/ because some of its commands (enroll, forget, open-session,
close-session) run the server's code; db/ holds queries only and never imports server/.
"""
