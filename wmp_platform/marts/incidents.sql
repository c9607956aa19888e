-- Incident performance: 999/101 volumes by grade and hour; answer, dispatch and attendance times
-- (median and 90th percentile) against the targets in response_targets and answer_targets;
-- the share within target per area and shift; officer availability per area and hour from the
-- duty roster and the incidents officers are allocated to. Aggregates only.
-- {schema} is the scratch schema the mart is written in before it is audited and published.
-- Times run from when the contact was received: answer (seconds), dispatch and arrival
-- (minutes). Days, hours and shifts are Europe/London wall-clock time of receipt.

-- The shift of each local hour of the day (an equality join, not a range test per incident).
CREATE TABLE {schema}._shift_of_hour AS
SELECT h AS hour, s.shift
FROM range(24) AS t(h)
JOIN {schema}.shifts s
  ON CASE WHEN s.starts_at_hour < s.ends_at_hour THEN h >= s.starts_at_hour AND h < s.ends_at_hour
          ELSE h >= s.starts_at_hour OR h < s.ends_at_hour END;

CREATE TABLE {schema}._incidents AS
SELECT i.channel,
       coalesce(i.grade_code, 0) AS grade_code,
       coalesce(t.grade_label, 'Not graded') AS grade_label,
       t.attend_within_minutes AS target_minutes,
       coalesce(i.lpa, 'Not recorded') AS lpa,
       s.shift,
       i.received_local,
       -- epoch differences: date_diff on instants goes through the calendar and costs ten times more
       epoch(i.answered_at) - epoch(i.received_at) AS answer_seconds,
       (epoch(i.dispatched_at) - epoch(i.received_at)) / 60 AS dispatch_minutes,
       (epoch(i.arrived_at) - epoch(i.received_at)) / 60 AS attendance_minutes
FROM (SELECT *, timezone('Europe/London', received_at) AS received_local FROM staged.incidents) i
LEFT JOIN {schema}.response_targets t ON t.grade_code = i.grade_code
LEFT JOIN {schema}._shift_of_hour s ON s.hour = hour(i.received_local);

CREATE TABLE {schema}.incident_volumes AS
SELECT CAST(received_local AS DATE) AS incident_date, hour(received_local) AS hour, lpa, channel, grade_code,
       grade_label, count(*) AS incidents
FROM {schema}._incidents GROUP BY ALL ORDER BY ALL;

-- Response per period ('day' or 'month'), area and shift, with roll-ups over shifts ('All shifts')
-- and over areas ('All areas'). Share within target: of the incidents attended, those attended
-- within the grade's target; null for grades without one.
CREATE OR REPLACE TEMP MACRO incident_response(unit) AS TABLE
SELECT * EXCLUDE (dispatch_quantiles, attendance_quantiles),
       dispatch_quantiles[1] AS median_dispatch_minutes, dispatch_quantiles[2] AS p90_dispatch_minutes,
       attendance_quantiles[1] AS median_attendance_minutes, attendance_quantiles[2] AS p90_attendance_minutes
FROM (
    SELECT unit AS period_unit, CAST(date_trunc(unit, received_local) AS DATE) AS period_start,
           coalesce(lpa, 'All areas') AS lpa, coalesce(shift, 'All shifts') AS shift,
           grade_code, grade_label, target_minutes,
           count(*) AS incidents,
           count(dispatch_minutes) AS dispatched,
           count(attendance_minutes) AS attended,
           CASE WHEN target_minutes IS NOT NULL
                THEN count(*) FILTER (WHERE attendance_minutes <= target_minutes) END AS attended_within_target,
           CASE WHEN target_minutes IS NOT NULL
                THEN count(*) FILTER (WHERE attendance_minutes <= target_minutes) / nullif(count(attendance_minutes), 0)
                END AS share_within_target,
           quantile_cont(dispatch_minutes, [0.5, 0.9]) AS dispatch_quantiles,
           quantile_cont(attendance_minutes, [0.5, 0.9]) AS attendance_quantiles
    FROM {schema}._incidents
    GROUP BY GROUPING SETS (
        (period_start, lpa, shift, grade_code, grade_label, target_minutes),
        (period_start, lpa, grade_code, grade_label, target_minutes),
        (period_start, grade_code, grade_label, target_minutes)
    )
);

CREATE TABLE {schema}.incident_response AS
FROM (FROM incident_response('day') UNION ALL BY NAME FROM incident_response('month'))
ORDER BY period_unit, period_start, lpa, shift, grade_code;

CREATE OR REPLACE TEMP MACRO call_answering(unit) AS TABLE
SELECT unit AS period_unit, CAST(date_trunc(unit, i.received_local) AS DATE) AS period_start,
       coalesce(i.lpa, 'All areas') AS lpa, i.channel, a.answer_within_seconds AS target_seconds,
       count(*) AS calls,
       count(i.answer_seconds) AS answered,
       count(*) FILTER (WHERE i.answer_seconds <= a.answer_within_seconds) AS answered_within_target,
       count(*) FILTER (WHERE i.answer_seconds <= a.answer_within_seconds) / count(*) AS share_within_target,
       quantile_cont(i.answer_seconds, [0.5, 0.9])[1] AS median_answer_seconds,
       quantile_cont(i.answer_seconds, [0.5, 0.9])[2] AS p90_answer_seconds
FROM {schema}._incidents i
JOIN {schema}.answer_targets a ON a.channel = i.channel
GROUP BY GROUPING SETS ((period_start, i.lpa, i.channel, target_seconds), (period_start, i.channel, target_seconds));

CREATE TABLE {schema}.call_answering AS
FROM (FROM call_answering('day') UNION ALL BY NAME FROM call_answering('month'))
ORDER BY period_unit, period_start, lpa, channel;

-- Distribution of attendance times per grade with a target: 30 buckets each a fifteenth of the
-- target wide up to twice the target, then bucket 30 holding everything from twice the target.
CREATE TABLE {schema}.response_time_distribution AS
WITH bucketed AS (
    SELECT CAST(date_trunc('month', received_local) AS DATE) AS month_start, lpa, grade_code, grade_label,
           target_minutes, target_minutes / 15 AS width,
           CAST(least(floor(attendance_minutes / (target_minutes / 15)), 30) AS INTEGER) AS bucket
    FROM {schema}._incidents
    WHERE target_minutes IS NOT NULL AND attendance_minutes IS NOT NULL
)
SELECT month_start, coalesce(lpa, 'All areas') AS lpa, grade_code, grade_label, target_minutes, bucket,
       bucket * width AS from_minutes, CASE WHEN bucket < 30 THEN (bucket + 1) * width END AS to_minutes,
       count(*) AS incidents
FROM bucketed
GROUP BY GROUPING SETS ((month_start, lpa, grade_code, grade_label, target_minutes, width, bucket),
                        (month_start, grade_code, grade_label, target_minutes, width, bucket))
ORDER BY month_start, lpa, grade_code, bucket;

-- Officer availability at the start of each hour of the rostered days: on duty (status 'On duty'
-- and the shift covers the instant), committed (on duty and allocated to an incident dispatched
-- and not yet closed at that instant), free (on duty and not committed). Per area of posting.
-- Hours are counted as whole hours since 1970 (London's offset from UTC is a whole number of
-- hours, so these are local hour starts too): each duty and each allocation is opened out into
-- the hours it covers, h with from <= h * 3600 < until, and matched by equality, far cheaper than
-- testing every hour against every interval.
CREATE OR REPLACE TEMP MACRO hours_covered(from_instant, until_instant) AS
range(CAST(ceil(epoch(from_instant) / 3600) AS BIGINT), CAST(ceil(epoch(until_instant) / 3600) AS BIGINT));

CREATE TABLE {schema}._hours AS
SELECT DISTINCT unnest(hours_covered(timezone('Europe/London', CAST(duty_date AS TIMESTAMP)),
                                     timezone('Europe/London', CAST(duty_date + 1 AS TIMESTAMP)))) AS hour
FROM (SELECT DISTINCT duty_date FROM staged.duty_roster);

CREATE TABLE {schema}._on_duty AS
SELECT DISTINCT d.hour, d.lpa, d.officer
FROM (SELECT unnest(hours_covered(shift_start, shift_end)) AS hour, coalesce(lpa, 'Not recorded') AS lpa,
             person_officer_collar_number AS officer
      FROM staged.duty_roster
      WHERE duty_status = 'On duty') d
SEMI JOIN {schema}._hours h ON h.hour = d.hour;

CREATE TABLE {schema}._committed AS
SELECT DISTINCT o.hour, o.officer
FROM (SELECT unnest(hours_covered(dispatched_at, closed_at)) AS hour, person_officer_collar_number AS officer
      FROM staged.incidents
      WHERE person_officer_collar_number IS NOT NULL) b
JOIN {schema}._on_duty o ON o.hour = b.hour AND o.officer = b.officer;

CREATE TABLE {schema}.officer_availability AS
WITH areas AS (SELECT DISTINCT coalesce(lpa, 'Not recorded') AS lpa FROM staged.duty_roster),
counted AS (
    SELECT o.hour, o.lpa, count(*) AS on_duty, count(c.officer) AS committed
    FROM {schema}._on_duty o
    LEFT JOIN {schema}._committed c USING (hour, officer)
    GROUP BY ALL
)
SELECT to_timestamp(h.hour * 3600) AS hour_start,
       CAST(timezone('Europe/London', to_timestamp(h.hour * 3600)) AS DATE) AS duty_date,
       hour(timezone('Europe/London', to_timestamp(h.hour * 3600))) AS hour, a.lpa,
       coalesce(c.on_duty, 0) AS on_duty, coalesce(c.committed, 0) AS committed,
       coalesce(c.on_duty, 0) - coalesce(c.committed, 0) AS free,
       c.committed / nullif(c.on_duty, 0) AS committed_share
FROM {schema}._hours h
CROSS JOIN areas a
LEFT JOIN counted c ON c.hour = h.hour AND c.lpa = a.lpa
ORDER BY hour_start, a.lpa;
