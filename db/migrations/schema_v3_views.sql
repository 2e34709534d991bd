-- The report views of schema version 3 (migration 0003_identifiers_and_drops.py), frozen:
-- db/schema.sql moves on with later migrations. Never edit this file.

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
JOIN class_sessions s ON s.lecture_id = e.lecture_id
LEFT JOIN attendance a ON a.session_id = s.session_id AND a.student_id = e.student_id;

-- attendance_summary_v: one row per (lecture, enrolled student, dropped ones too: dropped_on),
-- also when the lecture has no session yet. sessions: the sessions that apply to the student (present + late + absent +
-- excused + left_early). attendance_rate: percent, rounded to 0.1, late and left_early count
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
