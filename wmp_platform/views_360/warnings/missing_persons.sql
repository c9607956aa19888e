-- Missing persons: an episode of going missing. Active while the person is still missing.
-- Vulnerability factors are special-category data and stay out.
SELECT 'missing_persons|' || _record_key AS event_key,
       'missing' AS role,
       'missing episode' AS warning,
       status,
       coalesce(status = 'Missing', false) AS active,
       concat_ws('; ', 'risk ' || risk_grade, 'found ' || strftime(found_at, '%Y-%m-%d %H:%M')) AS details
FROM staged.missing_persons
QUALIFY row_number() OVER (PARTITION BY _record_key ORDER BY _partition DESC) = 1
