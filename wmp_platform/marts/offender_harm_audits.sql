-- Audits of the offender-harm mart, run on the scratch schema before it is published. Each query
-- returns one row per problem; none means passed.

-- audit: every_offence_weighted: every offence of a suspect's crime has a weight in harm_weights
SELECT 'HOCR code ' || coalesce(hocr_code, '(blank)') || ' has no harm weight (' || count(*) || ' crimes)'
FROM {schema}._suspected WHERE harm_weight_days IS NULL GROUP BY hocr_code;

-- audit: one_entity_per_suspect: the cross-reference gives each suspect mention one entity
SELECT mention_id || ' has ' || count(DISTINCT entity_id) || ' entities'
FROM entities.person_xref WHERE feed = 'crime' AND role = 'suspect'
GROUP BY mention_id HAVING count(*) > 1;

-- audit: harm_reconciles: the harm per person adds up to the weighted crimes of the window, and the monthly trend to the same
WITH bounds AS (SELECT any_value(as_at) AS as_at FROM {schema}._suspected),
expected AS (
    SELECT coalesce(sum(w.harm_weight_days), 0) AS harm, count(*) AS crimes
    FROM staged.crime c
    JOIN entities.person_xref x ON x.feed = 'crime' AND x.role = 'suspect' AND x.record_key = c._record_key
    JOIN {schema}.harm_weights w ON w.hocr_code = c.hocr_code
    CROSS JOIN bounds b
    WHERE CAST(timezone('Europe/London', c.occurred_at) AS DATE) > b.as_at - INTERVAL 12 MONTH
      AND CAST(timezone('Europe/London', c.occurred_at) AS DATE) <= b.as_at
),
published AS (
    SELECT 'offender_harm' AS name, sum(harm_12m) AS harm, sum(crimes_12m) AS crimes FROM {schema}.offender_harm
    UNION ALL
    SELECT 'offender_harm_monthly', sum(harm), sum(crimes) FROM {schema}.offender_harm_monthly
)
SELECT p.name || ' holds ' || coalesce(p.crimes, 0) || ' crimes of harm ' || coalesce(p.harm, 0)
       || '; the window has ' || e.crimes || ' of harm ' || e.harm
FROM published p, expected e
WHERE coalesce(p.crimes, 0) <> e.crimes OR abs(coalesce(p.harm, 0) - e.harm) > 1e-6;

-- audit: harm_in_range: harm is never negative; ranks run from 1; shares lie in [0, 1]
SELECT 'entity ' || entity_id || ': negative harm or bad rank' FROM {schema}.offender_harm
WHERE harm_12m < 0 OR harm_previous_12m < 0 OR force_rank < 1
UNION ALL
SELECT lpa || ' rank ' || rank_in_area || ': rank or share out of range' FROM {schema}.offender_harm_top
WHERE rank_in_area NOT BETWEEN 1 AND 100 OR share_of_area_harm NOT BETWEEN 0 AND 1 OR harm_12m < 0;
