-- Audits of the crime mart, run on the scratch schema before it is published. Each query returns
-- one row per problem; none means passed.

-- audit: crimes_reconcile: every staged crime is counted exactly once in the weekly, monthly, daily and outcome tables
WITH staged AS (SELECT count(*) AS n FROM staged.crime),
counted AS (
    SELECT 'crime_by_lsoa_week' AS name, sum(crimes) AS n FROM {schema}.crime_by_lsoa_week
    UNION ALL SELECT 'crime_by_lsoa_month', sum(crimes) FROM {schema}.crime_by_lsoa_month
    UNION ALL SELECT 'crime_by_area_day', sum(crimes) FROM {schema}.crime_by_area_day
    UNION ALL SELECT 'crime_outcomes', sum(crimes) FROM {schema}.crime_outcomes
)
SELECT name || ' counts ' || coalesce(c.n, 0) || ' crimes, staged.crime holds ' || s.n
FROM counted c, staged s WHERE coalesce(c.n, 0) <> s.n;

-- audit: lsoa_resolved: at least 95% of crimes are placed in an LSOA
SELECT 'only ' || round(100 * avg(CASE WHEN lsoa_code = 'Unresolved' THEN 0 ELSE 1 END), 1) || '% of crimes have an LSOA'
FROM {schema}._crimes
HAVING avg(CASE WHEN lsoa_code = 'Unresolved' THEN 0 ELSE 1 END) < 0.95;

-- audit: comparisons_consistent: changes are the differences of the counts they compare
SELECT 'week ' || period_start || ' ' || lsoa_code || ' ' || crime_category || ': change does not match its counts'
FROM {schema}.crime_by_lsoa_week
WHERE crimes < 0 OR change_vs_previous_period IS DISTINCT FROM crimes - previous_period_crimes
   OR days_covered NOT BETWEEN 1 AND 7
UNION ALL
SELECT 'month ' || period_start || ' ' || lsoa_code || ' ' || crime_category || ': change does not match its counts'
FROM {schema}.crime_by_lsoa_month
WHERE crimes < 0 OR change_vs_previous_period IS DISTINCT FROM crimes - previous_period_crimes
   OR days_covered NOT BETWEEN 1 AND 31;

-- audit: outcome_rates_in_range: outcome shares lie in [0, 1] and add up to 1 per month, area and category
SELECT month_start || ' ' || lpa || ' ' || crime_category || ': outcome shares add up to ' || sum(share_of_crimes)
FROM {schema}.crime_outcomes
GROUP BY month_start, lpa, crime_category
HAVING abs(sum(share_of_crimes) - 1) > 1e-9 OR min(share_of_crimes) < 0 OR max(share_of_crimes) > 1;

-- audit: hotspots_ranked: at most ten hotspots per area, ranked by crimes, with shares in [0, 1]
SELECT lpa || ': rank ' || rank || ' out of order or share ' || share_of_area_crimes || ' out of range'
FROM (SELECT *, lag(crimes) OVER (PARTITION BY lpa ORDER BY rank) AS above FROM {schema}.crime_hotspots)
WHERE rank NOT BETWEEN 1 AND 10 OR crimes > above OR share_of_area_crimes NOT BETWEEN 0 AND 1;
