"""Wire formats shared by server and clients, as sans-IO code (no sockets in this package).

- :mod:`protocol.identifiers`: student IDs and lecture codes.
- :mod:`protocol.image_end`: where a JPEG or PNG ends, from its own structure.
- :mod:`protocol.legacy`: the 2019 clients' one-shot payloads.
- :mod:`protocol.framed`: the framed protocol for new clients (docs/protocol.md): messages,
  codec, decoder, and the connection's rules (a package).
"""
