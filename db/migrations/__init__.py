"""The numbered migrations of the schema: ``NNNN_name.sql`` or ``NNNN_name.py`` (db/schema.py).

db.schema loads them by file path, never by import. This file makes the folder a package only so
that an installed copy holds the ``.py`` migrations (the ``.sql`` files are package data).
"""
