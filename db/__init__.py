"""Data access over pymysql. DDL lives in schema.sql and migrations/; every query lives in this package.

Query functions take an open connection and never commit; callers group them with
:func:`db.connection.transaction`.
"""
