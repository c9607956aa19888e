-- Firearms licensing: a person holding (or who held) a firearm or shotgun certificate. Active
-- while the certificate is. The GP medical marker is special-category data and stays out.
SELECT 'firearms_licensing|' || _record_key AS event_key,
       'licence_holder' AS role,
       'firearms certificate' AS warning,
       status,
       coalesce(status = 'Active', false) AS active,
       concat_ws('; ', certificate_type || ' certificate', action,
                 CAST(firearms_held AS VARCHAR) || ' held', 'expires ' || CAST(expiry_date AS VARCHAR)) AS details
FROM staged.firearms_licensing
QUALIFY row_number() OVER (PARTITION BY _record_key ORDER BY _partition DESC) = 1
