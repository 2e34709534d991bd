-- Migration 4: the history of every mark change (table mark_history, see db/schema.sql).
-- Safe to re-run: the table is created if missing, and each mark made before this migration
-- gets one history row (its status, source, client and marked_at) only if it has none yet.
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

INSERT INTO mark_history (session_id, student_id, new_status, source, client_name, changed_at)
SELECT a.session_id, a.student_id, a.status, a.source, a.client_name, a.marked_at
FROM attendance a
WHERE NOT EXISTS (
    SELECT 1 FROM mark_history h WHERE h.session_id = a.session_id AND h.student_id = a.student_id
)
ORDER BY a.attendance_id;
