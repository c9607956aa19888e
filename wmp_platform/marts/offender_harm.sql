-- Offender harm: per person entity named as a suspect of recorded crimes, the harm of those crimes
-- over a rolling 12 months, each crime weighted by its offence's weight in harm_weights (days;
-- an editable table that names the source of every weight); the 100 most harmful per area; the
-- monthly trend. Person-level and restricted.
-- {schema} is the scratch schema; {as_at} the last day of the 12 months (NULL: the latest day
-- with a crime). The previous 12 months' harm and the change are null when the crime data do not
-- reach back before the 12 months. Suspects are resolved to entities by the hub's cross-reference
-- (entities.person_xref, one row per source mention: feed, record_key, role, entity_id).

CREATE TABLE {schema}._suspected AS
WITH span AS (
    SELECT coalesce({as_at}, max(CAST(timezone('Europe/London', occurred_at) AS DATE))) AS as_at,
           min(CAST(timezone('Europe/London', occurred_at) AS DATE)) AS first_day
    FROM staged.crime
)
SELECT x.entity_id, c.hocr_code, coalesce(c.lpa, 'Not recorded') AS lpa,
       CAST(timezone('Europe/London', c.occurred_at) AS DATE) AS occurred_on,
       w.harm_weight_days, s.as_at, s.first_day <= s.as_at - INTERVAL 12 MONTH AS previous_window_covered,
       occurred_on > s.as_at - INTERVAL 12 MONTH AND occurred_on <= s.as_at AS in_window,
       occurred_on > s.as_at - INTERVAL 24 MONTH AND occurred_on <= s.as_at - INTERVAL 12 MONTH AS in_previous_window
FROM staged.crime c
JOIN entities.person_xref x ON x.feed = 'crime' AND x.role = 'suspect' AND x.record_key = c._record_key
LEFT JOIN {schema}.harm_weights w ON w.hocr_code = c.hocr_code
CROSS JOIN span s;

CREATE TABLE {schema}.offender_harm AS
WITH per_area AS (
    SELECT entity_id, lpa, sum(harm_weight_days) FILTER (WHERE in_window) AS harm
    FROM {schema}._suspected GROUP BY ALL
),
people AS (
    SELECT entity_id, any_value(as_at) AS as_at, bool_and(previous_window_covered) AS previous_window_covered,
           count(*) FILTER (WHERE in_window) AS crimes_12m,
           coalesce(sum(harm_weight_days) FILTER (WHERE in_window), 0) AS harm_12m,
           coalesce(sum(harm_weight_days) FILTER (WHERE in_previous_window), 0) AS harm_previous_12m,
           max(occurred_on) FILTER (WHERE in_window) AS last_offence_on
    FROM {schema}._suspected
    WHERE in_window OR in_previous_window
    GROUP BY entity_id
)
SELECT p.as_at, p.entity_id, p.crimes_12m, p.harm_12m,
       CASE WHEN p.previous_window_covered THEN p.harm_previous_12m END AS harm_previous_12m,
       CASE WHEN p.previous_window_covered THEN p.harm_12m - p.harm_previous_12m END AS harm_change,
       (SELECT first(a.lpa ORDER BY a.harm DESC NULLS LAST, a.lpa) FROM per_area a WHERE a.entity_id = p.entity_id)
           AS main_lpa,
       CAST(rank() OVER (ORDER BY p.harm_12m DESC) AS INTEGER) AS force_rank,
       p.last_offence_on
FROM people p
ORDER BY force_rank, entity_id;

-- The 100 most harmful per area: ranked by the harm of their crimes in that area (ties broken by
-- more crimes, then the entity id, so the list is stable).
CREATE TABLE {schema}.offender_harm_top AS
WITH per_area AS (
    SELECT lpa, entity_id, any_value(as_at) AS as_at, count(*) AS crimes_12m, sum(harm_weight_days) AS harm_12m
    FROM {schema}._suspected WHERE in_window GROUP BY ALL
),
ranked AS (
    SELECT *, CAST(row_number() OVER (PARTITION BY lpa ORDER BY harm_12m DESC, crimes_12m DESC, entity_id) AS INTEGER)
                  AS rank_in_area,
           harm_12m / sum(harm_12m) OVER (PARTITION BY lpa) AS share_of_area_harm
    FROM per_area
)
SELECT r.as_at, r.lpa, r.rank_in_area, r.entity_id, g.forename, g.surname, g.dob, r.crimes_12m, r.harm_12m,
       r.share_of_area_harm, o.harm_12m AS harm_12m_all_areas, o.harm_change AS harm_change_all_areas
FROM ranked r
LEFT JOIN entities.person_golden g ON g.entity_id = r.entity_id
LEFT JOIN {schema}.offender_harm o ON o.entity_id = r.entity_id
WHERE r.rank_in_area <= 100
ORDER BY r.lpa, r.rank_in_area;

CREATE TABLE {schema}.offender_harm_monthly AS
SELECT entity_id, CAST(date_trunc('month', occurred_on) AS DATE) AS month_start, count(*) AS crimes,
       sum(harm_weight_days) AS harm
FROM {schema}._suspected
WHERE in_window
GROUP BY ALL
ORDER BY entity_id, month_start;
