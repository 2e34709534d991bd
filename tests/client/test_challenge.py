"""client/challenge.py and its commands: ``attendance-client liveness --video`` (what the server's
rules see in a clip, run on this machine) and the arguments of ``checkin --video``."""

from __future__ import annotations

import json

from client import cli
from client.challenge import video_frames
from testkit import liveness as samples


def test_liveness_prints_one_json_line_per_sampled_frame_with_the_events(faces_dir, capsys):
    clip = faces_dir / "liveness" / samples.BLINKS_CLIP
    assert cli.main(["liveness", "--video", str(clip), "--fps", "30"]) == 0  # every frame (24 a second)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 334
    assert set(lines[0]) == {"time", "box", "eye_aspect_ratio", "yaw", "pitch", "events"}
    assert [line["time"] for line in lines] == sorted(line["time"] for line in lines)
    assert all(line["box"] is not None for line in lines)  # one face, always in view
    events = [(line["time"], event) for line in lines for event in line["events"]]
    assert {event for _, event in events} == {"blink"}  # the man of that clip never turns his head
    assert len(events) == 6  # its 6 blinks (tests/data/liveness_annotations.json)
    for at, _ in events:
        assert lines[[line["time"] for line in lines].index(at)]["eye_aspect_ratio"] < 0.22  # shut


def test_video_frames_are_sampled_at_the_asked_rate_and_reduced(faces_dir):
    frames = list(video_frames(faces_dir / "liveness" / samples.TURNS_CLIP, fps=10))
    assert 99 <= len(frames) <= 101  # 10 s
    times = [at for at, _ in frames]
    assert all(0.09 <= b - a <= 0.11 for a, b in zip(times, times[1:]))
    assert max(frames[0][1].shape[:2]) == 640


def test_bad_arguments_are_one_line_and_status_2(tmp_path, capsys):
    image = tmp_path / "a.jpg"
    image.write_bytes(b"x")
    assert cli.main(["checkin", "ea0017_1"]) == 2
    assert "IMAGE... or --video" in capsys.readouterr().err
    assert cli.main(["checkin", "ea0017_1", str(image), "--video", str(image)]) == 2
    assert cli.main(["checkin", "ea0017_1", "--video", str(tmp_path / "none.mp4")]) == 2
    assert "no such video" in capsys.readouterr().err
    assert cli.main(["liveness", "--video", str(image), "--fps", "0"]) == 2
    assert "--fps" in capsys.readouterr().err
