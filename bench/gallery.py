"""Matching against 100,000 enrolled encodings: the gallery's speed and memory, and the server's.

The 100,000 encodings are generated vectors stored through the normal enrollment path: a knowns
folder holds the six real sample photos and 100,000 placeholder files
``<student ID>_generated_<n>.jpg`` (made-up IDs 210000000...210099999; cached under
``.run/bench-gallery-100k/<version>/``, git-ignored), and ``sync_knowns`` enrolls them into a
fresh database (``attendance_bench_gallery``) with a pool whose ``encode_photos`` returns the real
encodings of the real photos (from the recognition workers) and a generated vector for each
placeholder. The generated vectors look like real encodings: the mean of the sample students'
encodings plus Gaussian noise, scaled so that two of them are about as far apart as two different
real people (the median distance between the sample students), widened a little if needed so
that none is within 0.65 of a real encoding: they match neither each other nor a real probe (the
nearest one to any probe is reported). The server started on that database later finds every
file unchanged (same SHA-256) and keeps them all.

Then:

- the gallery is loaded the way the server loads it (``enrollment.load_gallery``), timed (median of
  3), and its memory measured: tracemalloc around the load (what stays allocated while the gallery
  is alive, and the peak during the load), and the sizes of its arrays and ID/name tables;
- one face is matched the way the server does for a ``recognize`` (``Gallery.match`` of the face's
  encoding at threshold 0.6): ``--queries`` (200) real probe encodings in turn, median and p99;
  each probe must still get its true student, and its distances must equal
  ``face_recognition.face_distance`` (float64) within float32 tolerance. Baseline in the same run:
  ``face_recognition.face_distance`` over the 100,000 stored encodings plus the nearest one;
- the same with a lecture roster of 300 students (``allowed=``);
- a real server (``python -m server``, one worker per core) is started on that database, sent a
  ``recognize`` of each probe a few times, and its memory read from /proc: peak (VmHWM) and
  resident (VmRSS) of the main process, and of the workers.

Targets (issue 7): matching one face against 100,000 stored encodings <= 5 ms (the median) with
gallery memory <= 100 MB; the server's peak memory with 100,000 encodings is reported. Exit
status 1 when a target is missed.

    ATTENDANCE_DB_URL=mysql://root@127.0.0.1:3306/x .venv/bin/python -m bench.gallery
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import gc
import json
import os
import shutil
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from bench import results
from client.connection import FramedClient
from db.connection import DatabaseUrl, connect, url_from_env
from db.schema import recreate_database
from server.recognition.enrollment import load_gallery, sync_knowns
from server.recognition.gallery import DEFAULT_THRESHOLD
from server.recognition.pool import PhotoEncoding, RecognitionPool
from testkit.paths import FACES, REPO
from testkit.processes import ServerProcess, new_client, recognition_workers
from testkit.timing import percentile

GENERATED = 100_000
FIRST_ID = 210000000
#: Change when the placeholder files change: the cache is keyed by it.
VERSION = "v1"
CACHE = REPO / ".run" / "bench-gallery-100k"
DATABASE = "attendance_bench_gallery"
MATCH_TARGET = 0.005  # s, median
MEMORY_TARGET = 100 * 2**20  # bytes
ROSTER = 300
SEED = 20240607
MARGIN = 0.05  # the generated encodings stay this much beyond the threshold from real ones
MB = 2**20


# -- the knowns folder: 6 real photos and 100,000 placeholders ---------------------------------


def make_knowns(directory: Path) -> Path:
    done = directory.parent / "done.json"
    if done.is_file() and json.loads(done.read_text()) == {"generated": GENERATED} and directory.is_dir():
        return directory
    print(f"making {GENERATED} placeholder enrollment files in {directory} (once) ...", flush=True)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    for photo in sorted((FACES / "knowns").iterdir()):
        shutil.copyfile(photo, directory / photo.name)
    for n in range(GENERATED):
        student_id = FIRST_ID + n
        (directory / f"{student_id}_generated_{n:06d}.jpg").write_text(
            f"placeholder for the generated encoding of student {student_id}\n"
        )
    done.write_text(json.dumps({"generated": GENERATED}))
    return directory


class GeneratedPool:
    """encode_photos() as sync_knowns uses it: real photos on the real pool, placeholders get their
    generated vector (row n of ``vectors`` for ``..._generated_<n>.jpg``)."""

    def __init__(self, pool: RecognitionPool, vectors: np.ndarray):
        self.pool = pool
        self.vectors = vectors

    def encode_photos(self, paths, progress=None) -> list[PhotoEncoding]:  # progress: not reported
        paths = [Path(p) for p in paths]
        real = [p for p in paths if "_generated_" not in p.name]
        encoded = dict(zip(real, self.pool.encode_photos(real)))
        return [
            encoded[p] if p in encoded else PhotoEncoding(1, self.vectors[int(p.stem.rsplit("_", 1)[1])]) for p in paths
        ]


def real_probes(pool: RecognitionPool) -> list[tuple[str, str, np.ndarray]]:
    """(photo, true student, encoding) of every single-face probe photo, encoded by the workers."""
    with open(FACES / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "probe"]
    probes = []
    for row in rows:
        faces = pool.analyze((FACES / row["path"]).read_bytes())
        if len(faces) == 1:
            probes.append((row["path"], row["student_ids"], faces[0].encoding))
    return probes


def generated_vectors(known: np.ndarray, probes: np.ndarray) -> tuple[np.ndarray, float, float]:
    """GENERATED vectors around the mean of the real encodings, two of them about as far apart as
    two different real students (the median), spread a little wider when needed so that none is
    within MARGIN of a real encoding. Returns (vectors, their typical distance, the real one)."""
    pairs = [np.linalg.norm(known[i] - known[j]) for i in range(len(known)) for j in range(i + 1, len(known))]
    apart = float(np.median(pairs))
    real = np.vstack([known, probes])
    noise = np.random.default_rng(SEED).normal(size=(GENERATED, known.shape[1]))
    for widen in np.arange(1.0, 2.0, 0.05):
        sigma = widen * apart / np.sqrt(2 * known.shape[1])  # E|a - b| ~ sigma * sqrt(2 * 128)
        vectors = known.mean(axis=0) + sigma * noise
        if nearest_distance(vectors, real) > DEFAULT_THRESHOLD + MARGIN:
            return vectors, float(sigma * np.sqrt(2 * known.shape[1])), apart
    raise RuntimeError("cannot generate encodings far enough from the real ones")


def nearest_distance(vectors: np.ndarray, real: np.ndarray) -> float:
    return min(float(np.min(np.linalg.norm(vectors - encoding, axis=1))) for encoding in real)


# -- memory of a process ----------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS of a process, bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0]) * 1024
    return found


def gallery_bytes(gallery) -> tuple[int, int]:
    """(bytes of the gallery's numpy arrays, bytes of its ID and name tables), by accounting.
    An array that is a view of another (the templates of one-photo students are the encodings
    themselves) is counted once."""
    buffers = {}
    for array in vars(gallery).values():
        if isinstance(array, np.ndarray):
            owner = array if array.base is None else array.base
            buffers[id(owner)] = max(buffers.get(id(owner), 0), array.nbytes)
    arrays = sum(buffers.values())
    tables = sys.getsizeof(gallery._ids) + sum(sys.getsizeof(s) for s in gallery._ids)
    tables += sys.getsizeof(gallery._index) + sys.getsizeof(gallery._names)
    tables += sum(sys.getsizeof(name) for name in gallery._names.values())  # keys: the ID strings
    return arrays, tables


# -- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=200, help="faces matched one at a time")
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    knowns = make_knowns(CACHE / VERSION / "knowns")
    url = recreate_database(DatabaseUrl.parse(url_from_env()), DATABASE)
    real_photos = sorted((FACES / "knowns").iterdir())
    real_ids = [photo.name[:9] for photo in real_photos]
    with RecognitionPool() as pool:
        known = np.array([result.encoding for result in pool.encode_photos(real_photos)])
        probes = real_probes(pool)
        probe_encodings = np.array([encoding for _, _, encoding in probes])
        vectors, generated_apart, apart = generated_vectors(known, probe_encodings)
        print(
            f"enrolling {GENERATED} generated encodings and {len(known)} real photos through sync_knowns ...",
            flush=True,
        )
        conn = connect(url)
        started = time.perf_counter()
        report = sync_knowns(conn, knowns, GeneratedPool(pool, vectors))
        enroll_seconds = time.perf_counter() - started
    assert report.added == GENERATED + len(known) and not report.no_face, report

    # -- loading the gallery ----------------------------------------------------------------
    load_times = []
    for _ in range(3):
        gc.collect()
        started = time.perf_counter()
        gallery = load_gallery(conn)
        load_times.append(time.perf_counter() - started)
        del gallery
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    gallery = load_gallery(conn)
    gc.collect()
    kept, load_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept -= before
    load_peak -= before
    arrays, tables = gallery_bytes(gallery)
    conn.close()
    assert len(gallery) == GENERATED + len(known)

    # -- matching one face -------------------------------------------------------------------
    import face_recognition  # the baseline, and the reference distances

    stored_ids = [str(FIRST_ID + n) for n in range(GENERATED)] + real_ids
    stored = np.vstack([vectors, known])  # float64, as stored
    nearest_generated = nearest_distance(vectors, probe_encodings)
    wrong, worst_error = [], 0.0
    for path, student_id, encoding in probes:
        [match] = gallery.match([encoding], threshold=DEFAULT_THRESHOLD)
        reference = face_recognition.face_distance(stored, encoding)
        row = int(np.argmin(reference))
        if match.student_id != student_id or stored_ids[row] != student_id:
            wrong.append(f"{path} -> {match.student_id}")
        worst_error = max(worst_error, abs(match.distance - reference[row]))

    def timed(call, n: int) -> list[float]:
        times = []
        for i in range(n):
            encoding = probes[i % len(probes)][2]
            started = time.perf_counter()
            call(encoding)
            times.append(time.perf_counter() - started)
        return times

    roster = set(stored_ids[:: GENERATED // ROSTER][: ROSTER - len(known)]) | set(real_ids)
    timed(lambda e: gallery.match([e], threshold=DEFAULT_THRESHOLD), 20)  # warm-up
    match_times, roster_times, plain_times = [], [], []
    for _ in range(2):  # two rounds, so that the three see about the same machine load
        match_times += timed(lambda e: gallery.match([e], threshold=DEFAULT_THRESHOLD), args.queries // 2)
        roster_times += timed(
            lambda e: gallery.match([e], threshold=DEFAULT_THRESHOLD, allowed=roster), args.queries // 2
        )
        plain_times += timed(
            lambda e, stored=stored: int(np.argmin(face_recognition.face_distance(stored, e))),
            max(10, args.queries // 20),
        )
    roster_ok = all(gallery.match([e], allowed=roster)[0].student_id == s for _, s, e in probes)
    match_median, match_p99 = statistics.median(match_times), percentile(match_times, 0.99)
    roster_median = statistics.median(roster_times)
    plain_median = statistics.median(plain_times)
    del stored

    # -- a real server on that database ------------------------------------------------------
    token = new_client(url, "bench-gallery")
    images = [(FACES / path).read_bytes() for path, _, _ in probes]
    started = time.perf_counter()
    with ServerProcess(url, knowns, "--rate", "0", workers=cores) as server:
        server_start = time.perf_counter() - started
        after_start = proc_status(server.pid)
        answered = 0
        with FramedClient("127.0.0.1", server.port, token=token, timeout=300) as client:
            for _ in range(3):
                for (path, student_id, _), image in zip(probes, images):
                    reply = client.recognize(image)
                    answered += 1
                    if [face.student_id for face in reply.faces] != [student_id]:
                        wrong.append(f"server: {path} -> {[face.student_id for face in reply.faces]}")
        main_memory = proc_status(server.pid)
        workers = [proc_status(pid) for pid in recognition_workers(server.pid)]

    worker_rss = ", ".join(f"{w['VmRSS'] / MB:.0f}" for w in workers)
    worker_both = ", ".join(f"{w['VmRSS'] / MB:.0f} / {w['VmHWM'] / MB:.0f}" for w in workers)
    gallery_memory = max(kept, arrays + tables)
    match_met = match_median <= MATCH_TARGET
    memory_met = gallery_memory <= MEMORY_TARGET
    total = GENERATED + len(known)
    rows = [
        results.Row(
            f"match one face against {total:,} stored encodings (`Gallery.match`, median of "
            f"{len(match_times)}; p99 {results.seconds(match_p99)})",
            results.seconds(match_median),
            baseline=f"`face_recognition.face_distance` + nearest: {results.seconds(plain_median)}",
            target=f"<= {results.seconds(MATCH_TARGET)}",
            met=match_met,
        ),
        results.Row(
            f"gallery memory, {total:,} encodings (kept after the load, tracemalloc)",
            f"{gallery_memory / MB:.1f} MB",
            baseline=f"the float32 matrix alone: {total * 128 * 4 / MB:.1f} MB",
            target=f"<= {MEMORY_TARGET / MB:.0f} MB",
            met=memory_met,
        ),
        results.Row(
            f"server with {total:,} encodings: main process peak RSS (VmHWM)",
            f"{main_memory['VmHWM'] / MB:.0f} MB",
            baseline=f"after {answered} recognize requests: RSS {main_memory['VmRSS'] / MB:.0f} MB; "
            f"{len(workers)} workers: {worker_rss} MB",
        ),
    ]
    details = "\n".join(
        [
            "| what | figure |",
            "|---|---|",
            f"| enroll {total:,} rows through `sync_knowns` (hash the files, bulk upsert) | "
            f"{results.seconds(enroll_seconds)} |",
            f"| load the gallery (`enrollment.load_gallery`, median of 3) | "
            f"{results.seconds(statistics.median(load_times))} |",
            f"| gallery memory kept (tracemalloc) | {kept / MB:.1f} MB |",
            f"| ... by accounting: numpy arrays / ID and name tables | {arrays / MB:.1f} MB / {tables / MB:.1f} MB |",
            f"| peak traced memory during the load | {load_peak / MB:.0f} MB |",
            f"| match one face, whole gallery: median / p99 ({len(match_times)} queries) | "
            f"{results.seconds(match_median)} / {results.seconds(match_p99)} |",
            f"| match one face, lecture roster of {len(roster)} students: median | {results.seconds(roster_median)} |",
            f"| `face_recognition.face_distance` over the {total:,} (float64) + argmin: median | "
            f"{results.seconds(plain_median)} |",
            f"| largest difference from `face_recognition.face_distance` | {worst_error:.1e} |",
            f"| probes given their true student (gallery; roster; server) | "
            f"{'all ' + str(len(probes)) if not wrong else 'NOT: ' + '; '.join(wrong)}"
            f"{'' if roster_ok else ' (roster: NOT all)'} |",
            f"| generated encodings: typical distance between two (two different sample students: "
            f"median {apart:.2f}) | {generated_apart:.2f} |",
            f"| nearest generated encoding to any probe | {nearest_generated:.2f} |",
            f"| server start with {total:,} encodings ({total:,} files hashed, gallery loaded), to port open | "
            f"{results.seconds(server_start)} |",
            f"| server main process: RSS after start / peak (VmHWM) / RSS after {answered} recognize | "
            f"{after_start['VmRSS'] / MB:.0f} / {main_memory['VmHWM'] / MB:.0f} / "
            f"{main_memory['VmRSS'] / MB:.0f} MB |",
            f"| server workers ({len(workers)}): RSS / peak each | {worker_both} MB |",
            "",
            f"{cores} cores; load average at the end {os.getloadavg()[0]:.2f}.",
        ]
    )
    print()
    print(results.text_table([dataclasses.asdict(r) for r in rows]))
    print()
    print(details)
    results.save("gallery", rows, details=details)
    ok = match_met and memory_met and not wrong and roster_ok and nearest_generated > DEFAULT_THRESHOLD
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
