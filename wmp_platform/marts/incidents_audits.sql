-- Audits of the incident mart, run on the scratch schema before it is published. Each query
-- returns one row per problem; none means passed.

-- audit: shifts_cover_the_day: the shifts table puts every hour of the day in exactly one shift
SELECT 'hour ' || h || ' is in ' || count(s.shift) || ' shifts'
FROM range(24) AS t(h)
LEFT JOIN {schema}.shifts s
       ON CASE WHEN s.starts_at_hour < s.ends_at_hour THEN h >= s.starts_at_hour AND h < s.ends_at_hour
               ELSE h >= s.starts_at_hour OR h < s.ends_at_hour END
GROUP BY h HAVING count(s.shift) <> 1;

-- audit: incidents_reconcile: every staged incident is counted exactly once in volumes and in each response roll-up
WITH staged AS (SELECT count(*) AS n FROM staged.incidents),
counted AS (
    SELECT 'incident_volumes' AS name, sum(incidents) AS n FROM {schema}.incident_volumes
    UNION ALL
    SELECT 'incident_response ' || period_unit || ' ' || CASE WHEN lpa = 'All areas' THEN 'force' WHEN shift = 'All shifts'
           THEN 'area' ELSE 'area and shift' END, sum(incidents)
    FROM {schema}.incident_response GROUP BY ALL
)
SELECT name || ' counts ' || coalesce(c.n, 0) || ' incidents, staged.incidents holds ' || s.n
FROM counted c, staged s WHERE coalesce(c.n, 0) <> s.n;

-- audit: calls_reconcile: every staged 999 and 101 call is counted once per roll-up of call_answering
WITH staged AS (SELECT count(*) AS n FROM staged.incidents WHERE channel IN (SELECT channel FROM {schema}.answer_targets)),
counted AS (
    SELECT period_unit || CASE WHEN lpa = 'All areas' THEN ' force' ELSE ' areas' END AS name, sum(calls) AS n
    FROM {schema}.call_answering GROUP BY ALL
)
SELECT 'call_answering ' || name || ' counts ' || c.n || ' calls, staged.incidents holds ' || s.n
FROM counted c, staged s WHERE c.n <> s.n;

-- audit: times_not_negative: no incident is answered, dispatched or attended before it was received
SELECT count(*) || ' incidents answered, dispatched or attended before they were received'
FROM {schema}._incidents
WHERE answer_seconds < 0 OR dispatch_minutes < 0 OR attendance_minutes < 0
HAVING count(*) > 0;

-- audit: kpis_in_range: shares lie in [0, 1], medians at most the 90th percentiles, counts consistent
SELECT 'incident_response ' || period_start || ' ' || lpa || ' ' || shift || ' grade ' || grade_code || ': out of range'
FROM {schema}.incident_response
WHERE share_within_target NOT BETWEEN 0 AND 1 OR attended > dispatched OR dispatched > incidents
   OR attended_within_target > attended OR median_attendance_minutes > p90_attendance_minutes
   OR median_dispatch_minutes > p90_dispatch_minutes
UNION ALL
SELECT 'call_answering ' || period_start || ' ' || lpa || ' ' || channel || ': out of range'
FROM {schema}.call_answering
WHERE share_within_target NOT BETWEEN 0 AND 1 OR answered > calls OR median_answer_seconds > p90_answer_seconds;

-- audit: distribution_reconciles: the response-time distribution holds every attended incident with a target once per roll-up
WITH attended AS (
    SELECT count(*) AS n FROM {schema}._incidents WHERE target_minutes IS NOT NULL AND attendance_minutes IS NOT NULL
),
counted AS (
    SELECT lpa = 'All areas' AS force, sum(incidents) AS n FROM {schema}.response_time_distribution GROUP BY ALL
)
SELECT 'response_time_distribution ' || CASE WHEN force THEN 'force' ELSE 'areas' END || ' holds ' || c.n
       || ' incidents, ' || a.n || ' were attended'
FROM counted c, attended a WHERE c.n <> a.n;

-- audit: availability_in_range: officers committed never outnumber those on duty; someone is on duty at some hour
SELECT hour_start || ' ' || lpa || ': ' || committed || ' committed of ' || on_duty || ' on duty'
FROM {schema}.officer_availability
WHERE committed > on_duty OR free < 0
UNION ALL
SELECT 'nobody is on duty in any hour of the roster'
FROM {schema}.officer_availability HAVING sum(on_duty) = 0;
