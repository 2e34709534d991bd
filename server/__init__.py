"""The attendance server: TCP (2019 payloads and the framed protocol), face matching, MySQL."""
