-- Crime analytics: recorded crimes by crime type (the published crime category), Local Policing
-- Area, LSOA, week and month, with the change against the previous period and against the same
-- period a year before; outcome rates; the top hotspots; a daily series per area for trends.
-- Aggregates only: no person, address, postcode, UPRN or identifier reaches these tables.
-- {schema} is the scratch schema the mart is written in before it is audited and published.
-- Days are Europe/London calendar days of when the crime happened (occurred_at).

-- LSOAs of the gazetteer, with a centre point for maps.
CREATE TABLE {schema}._lsoa AS
SELECT lsoa_code, min(lsoa_name) AS lsoa_name,
       round(avg(location_address_latitude), 5) AS latitude, round(avg(location_address_longitude), 5) AS longitude
FROM staged.gazetteer
WHERE lsoa_code IS NOT NULL
GROUP BY lsoa_code;

-- Each crime's place as an LSOA: from its UPRN in the gazetteer; else from its postcode (the LSOA
-- most of the postcode's addresses lie in); else from the gazetteer address at its coordinates.
CREATE TABLE {schema}._crimes AS
WITH by_uprn AS (
    SELECT location_address_uprn AS uprn, min(lsoa_code) AS lsoa_code
    FROM staged.gazetteer WHERE lsoa_code IS NOT NULL GROUP BY ALL
),
by_postcode AS (
    SELECT postcode, arg_max(lsoa_code, addresses) AS lsoa_code
    FROM (SELECT location_address_postcode AS postcode, lsoa_code, count(*) AS addresses
          FROM staged.gazetteer WHERE lsoa_code IS NOT NULL AND location_address_postcode IS NOT NULL GROUP BY ALL)
    GROUP BY postcode
),
by_point AS (
    SELECT location_address_latitude AS latitude, location_address_longitude AS longitude, min(lsoa_code) AS lsoa_code
    FROM staged.gazetteer WHERE lsoa_code IS NOT NULL GROUP BY ALL
)
SELECT coalesce(c.crime_category, 'Not recorded') AS crime_category,
       coalesce(c.lpa, 'Not recorded') AS lpa,
       coalesce(u.lsoa_code, p.lsoa_code, g.lsoa_code, 'Unresolved') AS lsoa_code,
       coalesce(c.outcome, 'Not recorded') AS outcome,
       CAST(timezone('Europe/London', c.occurred_at) AS DATE) AS occurred_on
FROM staged.crime c
LEFT JOIN by_uprn u ON u.uprn = c.location_scene_uprn
LEFT JOIN by_postcode p ON p.postcode = c.location_scene_postcode
LEFT JOIN by_point g ON g.latitude = c.location_scene_latitude AND g.longitude = c.location_scene_longitude;

CREATE TABLE {schema}._span AS
SELECT min(occurred_on) AS first_day, max(occurred_on) AS last_day FROM {schema}._crimes;

-- Crimes per LSOA, category and period ('week' from Monday, or 'month'), for every period of the
-- data. A comparison is null when the data do not reach back to the period compared with, and 0
-- when they do but no crime was recorded then. Periods cut by the start or end of the data say
-- how many of their days are covered.
CREATE OR REPLACE TEMP MACRO crime_periods(unit) AS TABLE
WITH periods AS (
    SELECT CAST(p AS DATE) AS period_start,
           CAST(CASE unit WHEN 'week' THEN p + INTERVAL 7 DAY ELSE p + INTERVAL 1 MONTH END AS DATE) AS next_start,
           CAST(date_trunc(unit, p - INTERVAL 1 DAY) AS DATE) AS previous_start,
           CAST(CASE unit WHEN 'week' THEN p - INTERVAL 364 DAY ELSE p - INTERVAL 1 YEAR END AS DATE) AS last_year_start,
           CAST(CASE unit WHEN 'week' THEN p - INTERVAL 357 DAY ELSE p - INTERVAL 11 MONTH END AS DATE) AS last_year_next
    FROM {schema}._span,
         unnest(generate_series(CAST(date_trunc(unit, first_day) AS TIMESTAMP), CAST(date_trunc(unit, last_day) AS TIMESTAMP),
                                CASE unit WHEN 'week' THEN INTERVAL 7 DAY ELSE INTERVAL 1 MONTH END)) AS t(p)
),
counts AS (
    SELECT CAST(date_trunc(unit, occurred_on) AS DATE) AS period_start, lpa, lsoa_code, crime_category, count(*) AS crimes
    FROM {schema}._crimes GROUP BY ALL
),
grid AS (
    SELECT p.*, k.* FROM periods p, (SELECT DISTINCT lpa, lsoa_code, crime_category FROM counts) k
)
SELECT period_start, period_end, days_covered, lpa, lsoa_code, lsoa_name, crime_category, crimes,
       previous_period_crimes, crimes - previous_period_crimes AS change_vs_previous_period,
       same_period_last_year_crimes, crimes - same_period_last_year_crimes AS change_vs_same_period_last_year
FROM (
    SELECT g.period_start,
           g.next_start - 1 AS period_end,
           CAST(least(g.next_start - 1, s.last_day) - greatest(g.period_start, s.first_day) + 1 AS INTEGER) AS days_covered,
           g.lpa, g.lsoa_code, coalesce(l.lsoa_name, 'LSOA not resolved') AS lsoa_name, g.crime_category,
           coalesce(cur.crimes, 0) AS crimes,
           CASE WHEN g.period_start > s.first_day THEN coalesce(prev.crimes, 0) END AS previous_period_crimes,
           CASE WHEN g.last_year_next > s.first_day THEN coalesce(ly.crimes, 0) END AS same_period_last_year_crimes
    FROM grid g
    CROSS JOIN {schema}._span s
    LEFT JOIN counts cur ON cur.period_start = g.period_start AND cur.lpa = g.lpa AND cur.lsoa_code = g.lsoa_code
                        AND cur.crime_category = g.crime_category
    LEFT JOIN counts prev ON prev.period_start = g.previous_start AND prev.lpa = g.lpa
                         AND prev.lsoa_code = g.lsoa_code AND prev.crime_category = g.crime_category
    LEFT JOIN counts ly ON ly.period_start = g.last_year_start AND ly.lpa = g.lpa AND ly.lsoa_code = g.lsoa_code
                       AND ly.crime_category = g.crime_category
    LEFT JOIN {schema}._lsoa l ON l.lsoa_code = g.lsoa_code
    WHERE coalesce(cur.crimes, 0) + coalesce(prev.crimes, 0) + coalesce(ly.crimes, 0) > 0
);

CREATE TABLE {schema}.crime_by_lsoa_week AS
FROM crime_periods('week') ORDER BY period_start, lpa, lsoa_code, crime_category;

CREATE TABLE {schema}.crime_by_lsoa_month AS
FROM crime_periods('month') ORDER BY period_start, lpa, lsoa_code, crime_category;

-- The daily series per area and category that trend charts draw.
CREATE TABLE {schema}.crime_by_area_day AS
SELECT occurred_on, lpa, crime_category, count(*) AS crimes
FROM {schema}._crimes GROUP BY ALL ORDER BY ALL;

-- Outcome rates: each latest outcome's share of the month's crimes of that area and category.
CREATE TABLE {schema}.crime_outcomes AS
SELECT month_start, lpa, crime_category, outcome, crimes,
       crimes / sum(crimes) OVER (PARTITION BY month_start, lpa, crime_category) AS share_of_crimes
FROM (SELECT CAST(date_trunc('month', occurred_on) AS DATE) AS month_start, lpa, crime_category, outcome,
             count(*) AS crimes
      FROM {schema}._crimes GROUP BY ALL)
ORDER BY ALL;

-- Hotspots: the ten LSOAs of each area with most crimes in the last 28 days of the data, against
-- the 28 days before (null when the data do not reach back that far).
CREATE TABLE {schema}.crime_hotspots AS
WITH windowed AS (
    SELECT c.*, s.last_day AS as_at, s.first_day,
           c.occurred_on > s.last_day - 28 AS in_window,
           c.occurred_on <= s.last_day - 28 AND c.occurred_on > s.last_day - 56 AS in_previous_window
    FROM {schema}._crimes c, {schema}._span s
),
area_totals AS (
    SELECT lpa, count(*) FILTER (WHERE in_window) AS area_crimes FROM windowed GROUP BY lpa
),
by_category AS (
    SELECT lpa, lsoa_code, crime_category, count(*) AS crimes FROM windowed WHERE in_window GROUP BY ALL
),
by_lsoa AS (
    SELECT as_at, first_day, lpa, lsoa_code,
           count(*) FILTER (WHERE in_window) AS crimes,
           count(*) FILTER (WHERE in_previous_window) AS previous_window_crimes
    FROM windowed WHERE lsoa_code <> 'Unresolved' GROUP BY ALL
),
ranked AS (
    SELECT b.*, row_number() OVER (PARTITION BY b.lpa ORDER BY b.crimes DESC, b.lsoa_code) AS rank
    FROM by_lsoa b WHERE b.crimes > 0
)
SELECT r.as_at, 28 AS window_days, r.lpa, CAST(r.rank AS INTEGER) AS rank, r.lsoa_code, l.lsoa_name, r.crimes,
       CASE WHEN r.as_at - 28 >= r.first_day THEN r.previous_window_crimes END AS previous_window_crimes,
       r.crimes / a.area_crimes AS share_of_area_crimes,
       (SELECT first(crime_category ORDER BY crimes DESC, crime_category) FROM by_category b
        WHERE b.lpa = r.lpa AND b.lsoa_code = r.lsoa_code) AS main_crime_category,
       l.latitude, l.longitude
FROM ranked r
JOIN area_totals a USING (lpa)
LEFT JOIN {schema}._lsoa l USING (lsoa_code)
WHERE r.rank <= 10
ORDER BY r.lpa, r.rank;
