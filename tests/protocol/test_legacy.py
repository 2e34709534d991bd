"""protocol.legacy: the 2019 one-shot payloads, fed whole, byte by byte and in chunks."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from PIL import Image

from protocol.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from protocol.framed import PREAMBLE
from protocol.legacy import (
    FAIL,
    SUCCESS,
    UNKNOWN,
    LegacyDecoder,
    LegacyImage,
    LegacyMark,
    LegacyRoster,
    encode_roster_reply,
)


def feed_bytewise(decoder: LegacyDecoder, data: bytes) -> list:
    """Feed one byte at a time; return what each feed returned."""
    return [decoder.feed(data[i : i + 1]) for i in range(len(data))]


def feed_chunks(decoder: LegacyDecoder, data: bytes, size: int) -> list:
    return [decoder.feed(data[i : i + size]) for i in range(0, len(data), size)]


def refused(data: bytes, code: str = ErrorCode.BAD_REQUEST) -> RemoteProtocolError:
    """Feed ``data`` byte by byte; assert it is refused at its last byte, and not before."""
    decoder = LegacyDecoder()
    for i in range(len(data) - 1):
        decoder.feed(data[i : i + 1])
    with pytest.raises(RemoteProtocolError) as info:
        decoder.feed(data[-1:])
    assert info.value.code == code
    return info.value


def small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 30)).save(out, "JPEG")
    return out.getvalue()


MARK = b"201911001ea0017_1"
ROSTER = b"ea0017_1"


# -- mark and roster payloads -----------------------------------------------------------------


@pytest.mark.parametrize(
    "payload, expected",
    [
        (MARK, LegacyMark("201911001", "ea0017_1")),
        (b"201911001EA0017_1", LegacyMark("201911001", "ea0017_1")),
        (b"299999999Zz9999_9", LegacyMark("299999999", "zz9999_9")),
        (b"200000000ab0000_0", LegacyMark("200000000", "ab0000_0")),
        (ROSTER, LegacyRoster("ea0017_1")),
        (b"EA0017_1", LegacyRoster("ea0017_1")),
    ],
)
def test_text_payload_whole_and_byte_by_byte(payload: bytes, expected: object) -> None:
    assert LegacyDecoder().feed(payload) == expected
    results = feed_bytewise(LegacyDecoder(), payload)
    assert results[:-1] == [None] * (len(payload) - 1)
    assert results[-1] == expected


@pytest.mark.parametrize("trailing", [b"\n", b"\r\n", b" ", b"\t\r\n  "])
def test_trailing_whitespace_is_ignored(trailing: bytes) -> None:
    assert LegacyDecoder().feed(MARK + trailing) == LegacyMark("201911001", "ea0017_1")
    decoder = LegacyDecoder()
    assert decoder.feed(ROSTER) == LegacyRoster("ea0017_1")
    assert decoder.feed(trailing) is None
    assert decoder.feed(trailing) is None
    assert decoder.done


@pytest.mark.parametrize("trailing", [b"x", b"\n1", b"\x00", b"ea0017_1", b"\xff"])
def test_other_trailing_bytes_are_refused(trailing: bytes) -> None:
    for payload in (MARK, ROSTER):
        with pytest.raises(RemoteProtocolError) as info:
            LegacyDecoder().feed(payload + trailing)
        assert info.value.code == ErrorCode.BAD_REQUEST
        decoder = LegacyDecoder()
        assert decoder.feed(payload) is not None
        with pytest.raises(RemoteProtocolError):
            decoder.feed(trailing)


def test_one_request_per_connection() -> None:
    decoder = LegacyDecoder()
    assert decoder.feed(ROSTER) == LegacyRoster("ea0017_1")
    with pytest.raises(RemoteProtocolError, match="one request per connection"):
        decoder.feed(ROSTER)


@pytest.mark.parametrize(
    "prefix_refused",
    [
        pytest.param(b"1", id="199999999 refused at its first byte"),
        pytest.param(b"3", id="300000000 refused at its first byte"),
        pytest.param(b"2019x", id="letter inside the student ID"),
        pytest.param(b"201911001e1", id="digit where the lecture's 2nd letter goes"),
        pytest.param(b"201911001ea001_", id="'_' where the 4th digit goes"),
        pytest.param(b"201911001ea0017x", id="x where '_' goes"),
        pytest.param(b"201911001ea0017_a", id="letter where the last digit goes"),
        pytest.param(b"e1", id="e10017_1"),
        pytest.param(b"ea001_", id="ea001_11"),
        pytest.param(b"ea0017_1'", id="SQL after a roster code"),
        pytest.param(b"ea00'", id="quote inside a roster code"),
        pytest.param(b"201911001ea0017_1'", id="SQL after a mark"),
        pytest.param(b"ea0017_10", id="ea0017_10"),
        pytest.param(b"\xc3", id="UTF-8 lead byte"),
        pytest.param(b"ea\xc3", id="non-ASCII inside a code"),
    ],
)
def test_bad_text_refused_at_the_first_bad_byte(prefix_refused: bytes) -> None:
    """All but the last byte are accepted (maybe returning a request); the last is refused."""
    error = refused(prefix_refused)
    assert error.message


def test_wrong_range_ids_and_bad_codes_fed_whole() -> None:
    for payload in (
        b"199999999ea0017_1",
        b"300000000ea0017_1",
        b"ea0017_10",
        b"ea001_11",
        b"e10017_1",
        b"20191100ea0017_1",  # 8-digit ID
        b"ea0017_1'; DROP TABLE x; --",
        b"201911001ea0017_1'; DROP TABLE x; --",
    ):
        with pytest.raises(RemoteProtocolError) as info:
            LegacyDecoder().feed(payload)
        assert info.value.code == ErrorCode.BAD_REQUEST, payload


def test_sql_injection_is_refused_before_the_whole_string_arrives() -> None:
    payload = b"ea0017_1'; DROP TABLE x; --"
    decoder = LegacyDecoder()
    quote = payload.index(b"'")
    assert decoder.feed(payload[:quote]) == LegacyRoster("ea0017_1")
    with pytest.raises(RemoteProtocolError):
        decoder.feed(payload[quote : quote + 1])  # the quote alone: refused at once


def test_error_messages_name_the_byte() -> None:
    error = refused(b"ea00'")
    assert "byte 4" in error.message and "0x27" in error.message
    assert str(error).startswith("bad_request: ")


@pytest.mark.parametrize(
    "first",
    [b"\x00", b" ", b"\n", b"'", b"_", b"-", b"\x7f", b"\x80", b"\x89X", b"\xff\x00"],
)
def test_bytes_that_start_no_payload_are_refused_at_once(first: bytes) -> None:
    refused(first)


def test_framed_preamble_is_not_a_legacy_payload() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        LegacyDecoder().feed(PREAMBLE)
    assert info.value.code == ErrorCode.BAD_REQUEST


def test_empty_feed_returns_none() -> None:
    decoder = LegacyDecoder()
    assert decoder.feed(b"") is None
    assert decoder.feed(b"ea00") is None
    assert decoder.feed(b"") is None
    assert decoder.feed(b"17_1") == LegacyRoster("ea0017_1")
    assert decoder.feed(b"") is None


def test_incomplete_text_times_out() -> None:
    decoder = LegacyDecoder()
    decoder.feed(b"2019110")
    assert not decoder.idle_fallback
    with pytest.raises(RemoteProtocolError) as info:
        decoder.on_idle()
    assert info.value.code == ErrorCode.TIMEOUT
    assert "incomplete payload" in info.value.message
    with pytest.raises(RemoteProtocolError):
        LegacyDecoder().on_idle()  # nothing received at all


# -- images ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["probes/obama_small.jpg", "probes/obama_32bit_rgba.png", "groups/kit_rose.jpg"])
@pytest.mark.parametrize("chunk", [1000, 4096, 65536])
def test_sample_images_fed_in_chunks(faces_dir: Path, name: str, chunk: int) -> None:
    data = (faces_dir / name).read_bytes()
    decoder = LegacyDecoder()
    results = feed_chunks(decoder, data, chunk)
    assert results[:-1] == [None] * (len(results) - 1)
    assert results[-1] == LegacyImage(data)
    assert not decoder.idle_fallback


def test_image_byte_by_byte_with_trailing_bytes(faces_dir: Path) -> None:
    data = (faces_dir / "probes/obama_small.jpg").read_bytes()
    decoder = LegacyDecoder()
    results = feed_bytewise(decoder, data)
    assert results[-1] == LegacyImage(data)
    # Trailing data after the image's end (in later reads) is part of the upload: ignored.
    assert decoder.feed(b"trailing data of the file") is None


def test_image_with_trailing_bytes_in_the_same_feed() -> None:
    data = small_jpeg()
    assert LegacyDecoder().feed(data + b"\x00\x01junk") == LegacyImage(data)


def test_broken_image_falls_back_to_idle() -> None:
    broken = b"\xff\xd8\xff\xe0\x00\x00" + small_jpeg()[6:]  # a segment length of 0
    decoder = LegacyDecoder()
    assert decoder.feed(broken[:100]) is None
    assert decoder.idle_fallback
    assert decoder.feed(broken[100:]) is None
    assert decoder.on_idle() == LegacyImage(broken)
    assert decoder.done


def test_incomplete_image_times_out_instead_of_falling_back() -> None:
    data = small_jpeg()
    decoder = LegacyDecoder()
    assert decoder.feed(data[:-1]) is None
    assert not decoder.idle_fallback
    with pytest.raises(RemoteProtocolError) as info:
        decoder.on_idle()
    assert info.value.code == ErrorCode.TIMEOUT


def test_oversize_image_is_refused() -> None:
    data = small_jpeg()
    decoder = LegacyDecoder(max_image_bytes=len(data) - 1)
    with pytest.raises(RemoteProtocolError) as info:
        decoder.feed(data)
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE
    # An image exactly at the limit is fine.
    assert LegacyDecoder(max_image_bytes=len(data)).feed(data) == LegacyImage(data)


def test_oversize_image_refused_while_incomplete_and_in_fallback() -> None:
    decoder = LegacyDecoder(max_image_bytes=1000)
    decoder.feed(b"\xff\xd8\xff\xe0\xff\xff")  # a 65535-byte APP0 segment: incomplete
    with pytest.raises(RemoteProtocolError) as info:
        decoder.feed(b"\x00" * 1000)
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE

    decoder = LegacyDecoder(max_image_bytes=1000)
    decoder.feed(b"\xff\xd8\xff\xe0\x00\x01")  # broken: fallback
    assert decoder.idle_fallback
    with pytest.raises(RemoteProtocolError) as info:
        decoder.feed(b"\x00" * 1000)
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE


def test_bad_image_signature_is_refused() -> None:
    refused(b"\xff\xd8\x00")
    refused(b"\x89PNG\r\n\x1a\x00")


# -- WebP images ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def webp(faces_dir: Path) -> bytes:
    """A real photo (320 x 240) as a WebP file."""
    out = io.BytesIO()
    with Image.open(faces_dir / "probes/obama_small.jpg") as photo:
        photo.save(out, "WEBP")
    return out.getvalue()


@pytest.mark.parametrize("chunk", [1, 2, 3, 1000, 65536])
def test_webp_fed_in_pieces_is_complete_at_its_last_byte(webp: bytes, chunk: int) -> None:
    decoder = LegacyDecoder()
    results = feed_chunks(decoder, webp, chunk)
    assert results[:-1] == [None] * (len(results) - 1)
    assert results[-1] == LegacyImage(webp)
    assert not decoder.idle_fallback


def test_webp_with_trailing_bytes_in_the_same_feed_and_later(webp: bytes) -> None:
    assert LegacyDecoder().feed(webp + b"\x00\x01RIFFjunk") == LegacyImage(webp)
    decoder = LegacyDecoder()
    assert feed_bytewise(decoder, webp)[-1] == LegacyImage(webp)
    assert decoder.feed(b"trailing data of the file") is None


def test_webp_named_jpg_is_read_by_its_bytes(webp: bytes, tmp_path: Path) -> None:
    path = tmp_path / "201911001_obama.jpg"  # a phone's or web page's WebP, saved as .jpg
    path.write_bytes(webp)
    assert LegacyDecoder().feed(path.read_bytes()) == LegacyImage(webp)


@pytest.mark.parametrize("payload", [b"RI0017_1", b"ri0017_1", b"Ri0017_1"])
def test_roster_codes_starting_with_ri_stay_rosters(payload: bytes) -> None:
    """'R' and 'I' could start a WebP's RIFF or a lecture code: the third byte decides."""
    assert LegacyDecoder().feed(payload) == LegacyRoster("ri0017_1")
    results = feed_bytewise(LegacyDecoder(), payload)
    assert results == [None] * 7 + [LegacyRoster("ri0017_1")]


def test_ri_then_neither_digit_nor_f_is_refused_as_a_roster() -> None:
    error = refused(b"RIx")
    assert "byte 2 of a roster payload" in error.message
    refused(b"riF")  # "riff" is not the (case-sensitive) RIFF signature


@pytest.mark.parametrize("prefix", [b"RIFX", b"RIFF\x10\x00\x00\x00WA", b"RIFF\x10\x00\x00\x00WEBQ"])
def test_bad_webp_signature_is_refused_at_its_first_wrong_byte(prefix: bytes) -> None:
    error = refused(prefix)
    assert "WebP" in error.message


def test_incomplete_webp_times_out_instead_of_falling_back(webp: bytes) -> None:
    decoder = LegacyDecoder()
    assert decoder.feed(webp[:-1]) is None
    assert not decoder.idle_fallback
    with pytest.raises(RemoteProtocolError) as info:
        decoder.on_idle()
    assert info.value.code == ErrorCode.TIMEOUT


def test_webp_declaring_more_than_max_image_bytes_falls_back_then_is_refused(webp: bytes) -> None:
    assert LegacyDecoder(max_image_bytes=len(webp)).feed(webp) == LegacyImage(webp)
    decoder = LegacyDecoder(max_image_bytes=len(webp) - 1)
    assert decoder.feed(webp[:12]) is None  # its RIFF header declares len(webp) bytes
    assert decoder.idle_fallback
    with pytest.raises(RemoteProtocolError) as info:
        decoder.feed(webp[12:])
    assert info.value.code == ErrorCode.FRAME_TOO_LARGE


def test_broken_webp_falls_back_to_idle(webp: bytes) -> None:
    broken = webp[:12] + b"ICCP" + webp[16:]  # the first chunk must be VP8, VP8L or VP8X
    decoder = LegacyDecoder()
    assert decoder.feed(broken) is None
    assert decoder.idle_fallback
    assert decoder.on_idle() == LegacyImage(broken)


def test_heic_is_not_a_2019_payload() -> None:
    """An ISO-BMFF file starts with its first box's size, 00 00 00 xx: the framed protocol's
    first byte. HEIC photos are sent with the framed protocol (docs/protocol.md)."""
    with pytest.raises(RemoteProtocolError) as info:
        LegacyDecoder().feed(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
    assert info.value.code == ErrorCode.BAD_REQUEST


# -- replies --------------------------------------------------------------------------------


def test_fixed_replies() -> None:
    assert (SUCCESS, FAIL, UNKNOWN) == (b"success", b"fail", b"Unknown")


def test_roster_reply() -> None:
    rows = [
        ("201911001", "Barack Obama", "present", datetime.datetime(2019, 11, 1, 9, 3, 12)),
        ("201911002", "Joe\tBiden\r\n", None, None),
        ("201911003", "Kit 해링턴", "late", datetime.time(9, 15, 0)),
        ("201911004", "Rose", "excused", None),
    ]
    assert (
        encode_roster_reply(rows)
        == (
            "201911001\tBarack Obama\tpresent\t09:03:12\n"
            "201911002\tJoe Biden  \t-\t-\n"
            "201911003\tKit 해링턴\tlate\t09:15:00\n"
            "201911004\tRose\texcused\t-\n"
        ).encode()
    )


def test_empty_roster_reply_is_one_newline() -> None:
    assert encode_roster_reply([]) == b"\n"


def test_roster_reply_refuses_invalid_rows() -> None:
    with pytest.raises(LocalProtocolError):
        encode_roster_reply([("12345", "x", None, None)])
    with pytest.raises(LocalProtocolError):
        encode_roster_reply([("201911001", "x", "sleeping", None)])


# -- fuzzing ----------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402 - kept next to the one test that uses it
from hypothesis import strategies as st  # noqa: E402

legacy_pieces = st.one_of(
    st.binary(max_size=30),
    st.sampled_from(
        [
            MARK,
            ROSTER,
            b"\r\n",
            b"\xff\xd8\xff\xe0\x00\x10",
            b"\x89PNG\r\n\x1a\n",
            b"RIFF\x10\x00\x00\x00WEBPVP8 ",
            b"RI",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(legacy_pieces, max_size=6), idle=st.booleans())
def test_any_bytes_give_a_request_none_or_remote_protocol_error(pieces: list, idle: bool) -> None:
    decoder = LegacyDecoder(max_image_bytes=100)
    try:
        for piece in pieces:
            result = decoder.feed(piece)
            assert result is None or isinstance(result, (LegacyMark, LegacyRoster, LegacyImage))
        if idle and not decoder.done:
            assert isinstance(decoder.on_idle(), LegacyImage)
    except RemoteProtocolError:
        pass
