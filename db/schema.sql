-- Attendance system schema. InnoDB, utf8mb4; accepted by MySQL 8 and MariaDB 10.11.
-- This file is always the latest schema: `attendance-db init` runs it on an empty database and
-- records every migration of db/migrations/ as applied; a database of an earlier version gets
-- here through those migrations (`attendance-db upgrade`). Changing this file? Add a migration
-- that makes the same change (docs/maintenance.md, "Adding a migration").
-- Statements are separated by a semicolon at the end of a line (db/schema.py splits on that).

-- The schema version: one row per migration applied (db/migrations/NNNN_name.sql or .py).
-- The version of a database is MAX(version); attendance-server refuses any other than its own.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INT          NOT NULL,
    name        VARCHAR(100) NOT NULL,
    applied_at  DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS students (
    student_id   VARCHAR(20)  NOT NULL,
    name         VARCHAR(100) NOT NULL,
    created_at   DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (student_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- code: the university's lecture code, up to 20 characters (COSE101-02); a code of the 2019
-- format (two letters, four digits, '_', one digit) is stored lower case (ea0017_1).
-- starts_at / duration_minutes: the usual schedule of one session (optional).
CREATE TABLE IF NOT EXISTS lectures (
    lecture_id        INT          NOT NULL AUTO_INCREMENT,
    code              VARCHAR(20)  NOT NULL,
    title             VARCHAR(200) NULL,
    starts_at         TIME         NULL,
    duration_minutes  SMALLINT     NULL,
    created_at        DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (lecture_id),
    UNIQUE KEY uq_lectures_code (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- student IDs (here and in every table): the university's, up to 20 characters.
-- dropped_on: the day the student left the lecture's roster (attendance-db import-roster
-- --sync); NULL while enrolled. The row, and the student's marks, stay: from that day on the
-- student cannot check in to the lecture and no session counts for them.
CREATE TABLE IF NOT EXISTS enrollments (
    lecture_id   INT          NOT NULL,
    student_id   VARCHAR(20)  NOT NULL,
    enrolled_at  DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    dropped_on   DATE         NULL,
    PRIMARY KEY (lecture_id, student_id),
    KEY ix_enrollments_student (student_id),
    CONSTRAINT fk_enrollments_lecture FOREIGN KEY (lecture_id) REFERENCES lectures (lecture_id),
    CONSTRAINT fk_enrollments_student FOREIGN KEY (student_id) REFERENCES students (student_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per lecture per day it meets (at most one session a day: a lecture meeting twice a
-- day is two lectures). Times are campus time (db/campus_clock.py).
-- scheduled: made by `attendance-db schedule` (the term's calendar), else by a first mark,
--   a first camera sample or open-session.
-- cancelled_at, cancel_reason: `attendance-db cancel-session`; a cancelled session counts for
--   nobody (reports, rates, views) and its marks stay.
CREATE TABLE IF NOT EXISTS class_sessions (
    session_id     INT           NOT NULL AUTO_INCREMENT,
    lecture_id     INT           NOT NULL,
    session_date   DATE          NOT NULL,
    starts_at      DATETIME      NULL,
    ends_at        DATETIME      NULL,
    closed_at      DATETIME      NULL,
    scheduled      TINYINT(1)    NOT NULL DEFAULT 0,
    cancelled_at   DATETIME      NULL,
    cancel_reason  VARCHAR(255)  NULL,
    PRIMARY KEY (session_id),
    UNIQUE KEY uq_sessions_lecture_date (lecture_id, session_date),
    CONSTRAINT fk_sessions_lecture FOREIGN KEY (lecture_id) REFERENCES lectures (lecture_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per (session, student): the unique key is what makes a mark idempotent.
-- source: checkin (face check-in / student ID), rollcall (professor), camera (classroom camera),
--         manual (staff).  client_name: which client made the mark.
CREATE TABLE IF NOT EXISTS attendance (
    attendance_id  BIGINT       NOT NULL AUTO_INCREMENT,
    session_id     INT          NOT NULL,
    student_id     VARCHAR(20)  NOT NULL,
    status         ENUM('present', 'late', 'absent', 'excused', 'left_early') NOT NULL,
    source         ENUM('checkin', 'rollcall', 'camera', 'manual') NOT NULL,
    distance       FLOAT        NULL,
    marked_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    client_name    VARCHAR(100) NOT NULL,
    PRIMARY KEY (attendance_id),
    UNIQUE KEY uq_attendance_session_student (session_id, student_id),
    KEY ix_attendance_student (student_id),
    CONSTRAINT fk_attendance_session FOREIGN KEY (session_id) REFERENCES class_sessions (session_id),
    CONSTRAINT fk_attendance_student FOREIGN KEY (student_id) REFERENCES students (student_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every change of a mark (docs/maintenance.md, "Mark history"): one row per change, written in
-- the transaction of the change itself (db/history.py), never updated. old_status/old_source:
-- the mark before (NULL for a new mark); new_status, source: the mark after. client_name: the
-- client that made the change (its token's name; legacy@ADDRESS for a 2019 payload,
-- scheduled-close for the server's own close). professor: the professor's name when the
-- client said it; reason: why, when given (a past session changed by roll call, say).
-- A mark from before this table (migration 0004) has one row with its own marked_at.
CREATE TABLE IF NOT EXISTS mark_history (
    history_id   BIGINT       NOT NULL AUTO_INCREMENT,
    session_id   INT          NOT NULL,
    student_id   VARCHAR(20)  NOT NULL,
    old_status   ENUM('present', 'late', 'absent', 'excused', 'left_early') NULL,
    old_source   ENUM('checkin', 'rollcall', 'camera', 'manual') NULL,
    new_status   ENUM('present', 'late', 'absent', 'excused', 'left_early') NOT NULL,
    source       ENUM('checkin', 'rollcall', 'camera', 'manual') NOT NULL,
    client_name  VARCHAR(100) NOT NULL,
    professor    VARCHAR(100) NULL,
    reason       VARCHAR(500) NULL,
    changed_at   DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (history_id),
    KEY ix_history_session_student (session_id, student_id),
    KEY ix_history_student (student_id),
    CONSTRAINT fk_history_session FOREIGN KEY (session_id) REFERENCES class_sessions (session_id),
    CONSTRAINT fk_history_student FOREIGN KEY (student_id) REFERENCES students (student_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Batch marks already applied, so that a retried batch (same client-chosen batch_id) is applied
-- once. A batch_id is the client's own, per lecture: the key is (client_name, lecture_id,
-- batch_id), so another client, or another lecture, using the same batch_id is another batch.
-- request_sha256: the SHA-256 of the batch's content (lecture, source, marks); a batch_id sent
-- again with other content is refused, not answered as a replay (NULL for batches applied before
-- schema version 2). reply holds the JSON answer given the first time, sent again on a retry.
CREATE TABLE IF NOT EXISTS applied_batches (
    batch_id        VARCHAR(64)  NOT NULL,
    session_id      INT          NOT NULL,
    client_name     VARCHAR(100) NOT NULL,
    applied_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    reply           TEXT         NOT NULL,
    lecture_id      INT          NOT NULL,
    request_sha256  CHAR(64)     NULL,
    PRIMARY KEY (client_name, lecture_id, batch_id),
    CONSTRAINT fk_batches_session FOREIGN KEY (session_id) REFERENCES class_sessions (session_id),
    CONSTRAINT fk_batches_lecture FOREIGN KEY (lecture_id) REFERENCES lectures (lecture_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Face encodings of enrollment photos.
-- source: knowns (a photo in the server's knowns folder; photo_path is relative to it, and the
-- server's start-up keeps these rows in line with the folder) or enrolled (the framed `enroll`
-- op or `attendance-db enroll`; photo_path is 'enrolled:<student ID>:<SHA-256>', and no
-- knowns sync touches these rows).
-- encoding: 128 little-endian float64 (1024 bytes); NULL when the photo has no usable face,
-- so that the photo is not encoded again at every start. face_count: faces found in the photo.
-- photo: the enrolled photo itself, only when the server keeps enrolment photos
-- (--keep-enrolment-photos); NULL otherwise. `attendance-db forget` deletes the rows.
CREATE TABLE IF NOT EXISTS face_encodings (
    encoding_id   INT           NOT NULL AUTO_INCREMENT,
    student_id    VARCHAR(20)   NOT NULL,
    photo_path    VARCHAR(255)  NOT NULL,
    photo_sha256  CHAR(64)      NOT NULL,
    model         VARCHAR(64)   NOT NULL,
    face_count    SMALLINT      NOT NULL,
    encoding      BLOB          NULL,
    source        ENUM('knowns', 'enrolled') NOT NULL DEFAULT 'knowns',
    photo         MEDIUMBLOB    NULL,
    created_at    DATETIME      NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (encoding_id),
    UNIQUE KEY uq_encodings_photo_model (photo_path, model),
    KEY ix_encodings_student (student_id),
    CONSTRAINT fk_encodings_student FOREIGN KEY (student_id) REFERENCES students (student_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Clients allowed to speak the framed protocol (classroom PCs, professors' apps), added with
-- `attendance-db add-client NAME`. The token itself is never stored: token_sha256 is the hex
-- SHA-256 of it (tokens are 256-bit random secrets, so no salt is needed; docs/deploy.md).
-- A revoked client (revoked_at set) is refused on its next connection. name: attendance.client_name.
-- role: what the client may ask (docs/deploy.md, "Roles"); clients made before schema version 2
-- became admin. No default: an INSERT without a role is refused (MySQL 8) or gets the ENUM's first
-- value, kiosk, the least role (MariaDB).
CREATE TABLE IF NOT EXISTS clients (
    client_id     INT          NOT NULL AUTO_INCREMENT,
    name          VARCHAR(64)  NOT NULL,
    token_sha256  CHAR(64)     NOT NULL,
    created_at    DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    revoked_at    DATETIME     NULL,
    role          ENUM('kiosk', 'camera', 'professor', 'admin') NOT NULL,
    PRIMARY KEY (client_id),
    UNIQUE KEY uq_clients_name (name),
    UNIQUE KEY uq_clients_token (token_sha256)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The lectures a client serves (`attendance-db add-client NAME --role ROLE --lecture CODE`);
-- a client without rows here serves every lecture.
CREATE TABLE IF NOT EXISTS client_lectures (
    client_id   INT  NOT NULL,
    lecture_id  INT  NOT NULL,
    PRIMARY KEY (client_id, lecture_id),
    KEY ix_client_lectures_lecture (lecture_id),
    CONSTRAINT fk_client_lectures_client FOREIGN KEY (client_id) REFERENCES clients (client_id),
    CONSTRAINT fk_client_lectures_lecture FOREIGN KEY (lecture_id) REFERENCES lectures (lecture_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Classroom camera (docs/camera.md). One row per presence sample a watcher sent: when the
-- frame was taken (sampled_at, the lecture's time line), how many faces it showed, and who sent
-- it. A retried sample (same session, client and sampled_at) is stored once.
CREATE TABLE IF NOT EXISTS presence_samples (
    sample_id    BIGINT       NOT NULL AUTO_INCREMENT,
    session_id   INT          NOT NULL,
    sampled_at   DATETIME(3)  NOT NULL,
    faces        INT          NOT NULL,
    client_name  VARCHAR(100) NOT NULL,
    received_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (sample_id),
    UNIQUE KEY uq_samples_session_client_time (session_id, client_name, sampled_at),
    CONSTRAINT fk_samples_session FOREIGN KEY (session_id) REFERENCES class_sessions (session_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The enrolled students recognized in a presence sample (each at most once per sample).
CREATE TABLE IF NOT EXISTS presence_sightings (
    sample_id   BIGINT       NOT NULL,
    student_id  VARCHAR(20)  NOT NULL,
    PRIMARY KEY (sample_id, student_id),
    KEY ix_sightings_student (student_id),
    CONSTRAINT fk_sightings_sample FOREIGN KEY (sample_id) REFERENCES presence_samples (sample_id),
    CONSTRAINT fk_sightings_student FOREIGN KEY (student_id) REFERENCES students (student_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Report views (docs/reports.md): plain SELECTs for staff, e.g.
--   SELECT * FROM attendance_summary_v WHERE lecture_code = 'ea0017_1' ORDER BY student_id
-- db/reports.py applies the same rules with a configurable late weight.
--
-- attendance_sessions_v: one row per (lecture, session not cancelled, enrolled student).
-- status: the mark's status when there is a mark; else 'not_enrolled' (session before the
--   enrollment date, or on or after the day the student dropped the lecture), 'unmarked' (session still open: closed_at NULL, dated today or later),
--   or 'absent' (the student was not marked).
-- source, marked_at: the mark's, NULL without a mark.
-- counted: 1 when the row counts in the attendance rate (present, late, left_early, absent).
-- Uncertain check-ins (docs/recognition.md): a face near enrolled students but not clearly one
-- of them, still uncertain after another try, waits here for the professor, who confirms it as
-- a student (then marked with source checkin) or rejects it. Candidates: the students it may be,
-- with the face's distance to each.
-- kind: 'uncertain' (the above), or 'late': a recognized student's check-in after the session
--   closed (the student was told to see the professor; the one candidate is that student).
CREATE TABLE IF NOT EXISTS pending_checkins (
    pending_id           BIGINT       NOT NULL AUTO_INCREMENT,
    session_id           INT          NOT NULL,
    requested_at         DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    client_name          VARCHAR(100) NOT NULL,
    frames               SMALLINT     NOT NULL,
    kind                 ENUM('uncertain', 'late') NOT NULL DEFAULT 'uncertain',
    resolution           ENUM('confirmed', 'rejected') NULL,
    resolved_student_id  VARCHAR(20)  NULL,
    resolved_by          VARCHAR(100) NULL,
    resolved_at          DATETIME(3)  NULL,
    PRIMARY KEY (pending_id),
    KEY ix_pending_session (session_id, resolution),
    KEY ix_pending_resolved_student (resolved_student_id),
    CONSTRAINT fk_pending_session FOREIGN KEY (session_id) REFERENCES class_sessions (session_id),
    CONSTRAINT fk_pending_student FOREIGN KEY (resolved_student_id) REFERENCES students (student_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS pending_candidates (
    pending_id  BIGINT       NOT NULL,
    student_id  VARCHAR(20)  NOT NULL,
    distance    FLOAT        NOT NULL,
    PRIMARY KEY (pending_id, student_id),
    KEY ix_pending_candidates_student (student_id),
    CONSTRAINT fk_candidates_pending FOREIGN KEY (pending_id) REFERENCES pending_checkins (pending_id)
        ON DELETE CASCADE,
    CONSTRAINT fk_candidates_student FOREIGN KEY (student_id) REFERENCES students (student_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE OR REPLACE VIEW attendance_sessions_v AS
SELECT l.lecture_id, l.code AS lecture_code, s.session_id, s.session_date,
       st.student_id, st.name AS student_name,
       CASE
           WHEN a.status IS NOT NULL THEN a.status
           WHEN s.session_date < DATE(e.enrolled_at) OR s.session_date >= e.dropped_on THEN 'not_enrolled'
           WHEN s.closed_at IS NULL AND s.session_date >= CURRENT_DATE THEN 'unmarked'
           ELSE 'absent'
       END AS status,
       a.source, a.marked_at,
       CASE
           WHEN a.status IS NOT NULL THEN a.status <> 'excused'
           WHEN s.session_date < DATE(e.enrolled_at) OR s.session_date >= e.dropped_on THEN 0
           WHEN s.closed_at IS NULL AND s.session_date >= CURRENT_DATE THEN 0
           ELSE 1
       END AS counted
FROM enrollments e
JOIN lectures l ON l.lecture_id = e.lecture_id
JOIN students st ON st.student_id = e.student_id
JOIN class_sessions s ON s.lecture_id = e.lecture_id AND s.cancelled_at IS NULL
LEFT JOIN attendance a ON a.session_id = s.session_id AND a.student_id = e.student_id;

-- attendance_summary_v: one row per (lecture, enrolled student; those who dropped it too, with
-- dropped_on), also when the lecture has no session yet. sessions: the sessions that apply to
-- the student (present + late + absent + excused + left_early). attendance_rate: percent, rounded to 0.1, late and left_early count
-- 0.5, excused sessions left out; NULL when no session counts.
CREATE OR REPLACE VIEW attendance_summary_v AS
SELECT l.lecture_id, l.code AS lecture_code, st.student_id, st.name AS student_name,
       e.enrolled_at, e.dropped_on,
       COUNT(CASE WHEN v.status IN ('present', 'late', 'absent', 'excused', 'left_early') THEN 1 END)
           AS sessions,
       COUNT(CASE WHEN v.status = 'present' THEN 1 END) AS present,
       COUNT(CASE WHEN v.status = 'late' THEN 1 END) AS late,
       COUNT(CASE WHEN v.status = 'absent' THEN 1 END) AS absent,
       COUNT(CASE WHEN v.status = 'excused' THEN 1 END) AS excused,
       COUNT(CASE WHEN v.status = 'left_early' THEN 1 END) AS left_early,
       ROUND(100 * SUM(CASE WHEN v.status = 'present' THEN 1
                            WHEN v.status IN ('late', 'left_early') THEN 0.5
                            ELSE 0 END)
                 / NULLIF(SUM(v.counted), 0), 1) AS attendance_rate
FROM enrollments e
JOIN lectures l ON l.lecture_id = e.lecture_id
JOIN students st ON st.student_id = e.student_id
LEFT JOIN attendance_sessions_v v ON v.lecture_id = e.lecture_id AND v.student_id = e.student_id
GROUP BY l.lecture_id, l.code, st.student_id, st.name, e.enrolled_at, e.dropped_on;
